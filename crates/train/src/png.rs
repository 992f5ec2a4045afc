//! A minimal PNG writer (RGB, 8 bit, zlib "stored" blocks; PNG spec ISO/IEC 15948, RFC 1950/1951)
//! and a line-chart rasterizer for the training curves. No font or system-library dependency:
//! axes and series are drawn, and the legend is written beside the image as JSON.

/// An RGB canvas.
#[derive(Debug, Clone)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Self { width, height, pixels: vec![[255, 255, 255]; width * height] }
    }

    /// Sets one pixel (out-of-range coordinates are ignored).
    pub fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = c;
        }
    }

    /// Reads one pixel.
    pub fn get(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }

    /// Draws a 2-pixel-wide line (Bresenham).
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: [u8; 3]) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.put(x, y, c);
            self.put(x, y + 1, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Encodes the canvas as PNG bytes.
    pub fn to_png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.height * (1 + 3 * self.width));
        for row in self.pixels.chunks(self.width.max(1)) {
            raw.push(0); // filter: none
            for p in row {
                raw.extend_from_slice(p);
            }
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &zlib_stored(&raw));
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE, reflected, as PNG and zip use).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Colors of successive series.
pub const PALETTE: [[u8; 3]; 6] =
    [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

/// Draws each series (x, y points) in its own horizontal panel, scaled to its own range, with a
/// frame and a zero line when 0 lies in range.
pub fn plot_panels(series: &[(String, Vec<(f64, f64)>)], width: usize, panel_height: usize) -> Canvas {
    let n = series.len().max(1);
    let mut c = Canvas::new(width, panel_height * n);
    let margin = 10i64;
    for (k, (_, pts)) in series.iter().enumerate() {
        let top = (k * panel_height) as i64 + margin;
        let bottom = ((k + 1) * panel_height) as i64 - margin;
        let (left, right) = (margin, width as i64 - margin);
        let grey = [160, 160, 160];
        c.line((left, top), (right, top), grey);
        c.line((left, bottom), (right, bottom), grey);
        c.line((left, top), (left, bottom), grey);
        c.line((right, top), (right, bottom), grey);
        let finite: Vec<(f64, f64)> = pts.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        if finite.is_empty() {
            continue;
        }
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in &finite {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
            y0 -= 1.0;
        }
        let px = |x: f64| left + ((x - x0) / (x1 - x0) * (right - left) as f64).round() as i64;
        let py = |y: f64| bottom - ((y - y0) / (y1 - y0) * (bottom - top) as f64).round() as i64;
        if y0 < 0.0 && y1 > 0.0 {
            c.line((left, py(0.0)), (right, py(0.0)), [210, 210, 210]);
        }
        let color = PALETTE[k % PALETTE.len()];
        for w in finite.windows(2) {
            c.line((px(w[0].0), py(w[0].1)), (px(w[1].0), py(w[1].1)), color);
        }
        if finite.len() == 1 {
            c.line((px(finite[0].0), py(finite[0].1)), (px(finite[0].0) + 2, py(finite[0].1)), color);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_has_signature_header_and_expected_size() {
        let mut c = Canvas::new(3, 2);
        c.put(1, 1, [1, 2, 3]);
        let png = c.to_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes([png[16], png[17], png[18], png[19]]), 3);
        // 2 rows × (1 + 9) bytes stored: zlib 2 + block header 5 + 20 + adler 4.
        let idat_len = u32::from_be_bytes([png[33], png[34], png[35], png[36]]);
        assert_eq!(idat_len, 31);
        assert_eq!(c.get(1, 1), Some([1, 2, 3]));
    }

    #[test]
    fn rising_series_is_drawn_low_left_to_high_right() {
        let c = plot_panels(&[("r".into(), vec![(0.0, 0.0), (1.0, 1.0)])], 100, 100);
        let color = PALETTE[0];
        assert_eq!(c.get(10, 90), Some(color));
        assert_eq!(c.get(90, 10), Some(color));
    }
}
