//! The training curves of a run (`curves.png`), drawn with plotters' bitmap backend: a grid of
//! labelled panels over global steps — reward mean ± std, held-out validation score, format-error
//! rate, dynamic-sampling filter rate, SFT loss, KL and entropy, gradient norm — with each stage's
//! start marked and named. The font (DejaVu Sans, Bitstream Vera license, `assets/`) is embedded,
//! so drawing needs no system fonts or fontconfig.
use crate::error::{Result, TrainError};
use crate::metrics::StepMetrics;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 260;
const COLUMNS: usize = 2;

/// One line of a panel: its legend label, colour and (step, value) points.
struct Line {
    label: &'static str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// One panel: title, y-axis label, lines and, for the reward, a ± std band.
struct Panel {
    title: &'static str,
    y_label: &'static str,
    lines: Vec<Line>,
    band: Option<Vec<(f64, f64, f64)>>,
}

fn series(records: &[StepMetrics], get: impl Fn(&StepMetrics) -> Option<f64>) -> Vec<(f64, f64)> {
    records.iter().filter_map(|m| get(m).filter(|v| v.is_finite()).map(|v| (m.step as f64, v))).collect()
}

fn line(label: &'static str, colour: RGBColor, points: Vec<(f64, f64)>) -> Line {
    Line { label, colour, points }
}

fn panels(records: &[StepMetrics]) -> Vec<Panel> {
    let grpo = |m: &StepMetrics| m.kind != "sft";
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let green = RGBColor(44, 160, 44);
    let red = RGBColor(214, 39, 40);
    let purple = RGBColor(148, 103, 189);
    let band = records
        .iter()
        .filter(|m| grpo(m) && m.reward_mean.is_finite() && m.reward_std.is_finite())
        .map(|m| (m.step as f64, m.reward_mean - m.reward_std, m.reward_mean + m.reward_std))
        .collect();
    vec![
        Panel {
            title: "Rollout reward (mean ± std)",
            y_label: "reward",
            lines: vec![line("mean", blue, series(records, |m| grpo(m).then_some(m.reward_mean)))],
            band: Some(band),
        },
        Panel {
            title: "Validation score",
            y_label: "score",
            lines: vec![line("held-out", green, series(records, |m| m.val_score))],
            band: None,
        },
        Panel {
            title: "Format-error and filter rates",
            y_label: "fraction",
            lines: vec![
                line("format errors", red, series(records, |m| grpo(m).then_some(m.format_error_rate))),
                line("filtered groups", orange, series(records, |m| grpo(m).then_some(m.filter_rate))),
            ],
            band: None,
        },
        Panel {
            title: "SFT loss",
            y_label: "cross-entropy",
            lines: vec![line("loss", purple, series(records, |m| (m.kind == "sft").then_some(m.loss)))],
            band: None,
        },
        Panel {
            title: "KL and entropy",
            y_label: "nats",
            lines: vec![
                line("entropy", blue, series(records, |m| grpo(m).then_some(m.entropy))),
                line("approx. KL to rollout policy", red, series(records, |m| grpo(m).then_some(m.approx_kl))),
                line("KL to reference", green, series(records, |m| grpo(m).then_some(m.kl))),
            ],
            band: None,
        },
        Panel {
            title: "Gradient norm (before clipping)",
            y_label: "L2 norm",
            lines: vec![line("grad norm", orange, series(records, |m| Some(m.grad_norm)))],
            band: None,
        },
    ]
}

/// (first global step, name) of each stage, in order.
fn stage_starts(records: &[StepMetrics]) -> Vec<(f64, String)> {
    let mut out: Vec<(f64, String)> = Vec::new();
    for m in records {
        if out.last().is_none_or(|(_, s)| *s != m.stage) {
            out.push((m.step as f64, m.stage.clone()));
        }
    }
    out
}

fn range(panel: &Panel) -> Option<(f64, f64)> {
    let ys = panel.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let band = panel.band.iter().flatten().flat_map(|b| [b.1, b.2]);
    let (lo, hi) = ys.chain(band).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    if !lo.is_finite() {
        return None;
    }
    let pad = ((hi - lo) * 0.08).max(1e-3);
    Some((lo - pad, hi + pad))
}

fn draw_error<E: std::error::Error + Send + Sync + 'static>(path: &Path) -> impl Fn(E) -> TrainError + '_ {
    move |e| TrainError::Plot { path: path.to_path_buf(), source: Box::new(e) }
}

/// Draws `records` into the PNG file `path`, atomically: into a temporary file beside it (named
/// `*.png` so the encoder picks PNG) that is then renamed.
pub fn draw(records: &[StepMetrics], path: &Path) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}.png",
        path.file_name().map_or_else(|| "curves".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let drawn = draw_into(records, &tmp);
    if drawn.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return drawn;
    }
    std::fs::rename(&tmp, path).map_err(TrainError::io(path))
}

fn draw_into(records: &[StepMetrics], path: &Path) -> Result<()> {
    static FONT_ONCE: Once = Once::new();
    FONT_ONCE.call_once(|| {
        // The embedded font is valid; an error here would only mean text is not drawn.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
    let panels = panels(records);
    let rows = panels.len().div_ceil(COLUMNS);
    let steps = records
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| (a.min(m.step as f64), b.max(m.step as f64)));
    let (x0, x1) = if steps.0.is_finite() { (steps.0.min(steps.1 - 1.0), steps.1) } else { (0.0, 1.0) };
    let stages = stage_starts(records);
    let root = BitMapBackend::new(path, (WIDTH, PANEL_HEIGHT * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_error(path))?;
    let areas = root.split_evenly((rows, COLUMNS));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let mut chart = ChartBuilder::on(area);
        chart.caption(panel.title, ("sans-serif", 18)).margin(8).x_label_area_size(34).y_label_area_size(56);
        let Some((y0, y1)) = range(panel) else {
            let mut c = chart.build_cartesian_2d(x0..x1, 0.0..1.0).map_err(draw_error(path))?;
            c.configure_mesh().x_desc("step").y_desc(panel.y_label).draw().map_err(draw_error(path))?;
            area.draw(&Text::new(
                "no data in this run",
                (WIDTH as i32 / 8, PANEL_HEIGHT as i32 / 2),
                ("sans-serif", 15),
            ))
            .map_err(draw_error(path))?;
            continue;
        };
        let mut c = chart.build_cartesian_2d(x0..x1, y0..y1).map_err(draw_error(path))?;
        c.configure_mesh()
            .x_desc("step")
            .y_desc(panel.y_label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(draw_error(path))?;
        for (start, name) in &stages {
            c.draw_series(std::iter::once(PathElement::new(vec![(*start, y0), (*start, y1)], BLACK.mix(0.25))))
                .map_err(draw_error(path))?;
            c.draw_series(std::iter::once(Text::new(name.clone(), (*start, y1), ("sans-serif", 12))))
                .map_err(draw_error(path))?;
        }
        if let Some(band) = &panel.band {
            if !band.is_empty() {
                let upper = band.iter().map(|b| (b.0, b.2));
                let lower = band.iter().rev().map(|b| (b.0, b.1));
                let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
                c.draw_series(std::iter::once(Polygon::new(outline, RGBColor(31, 119, 180).mix(0.18))))
                    .map_err(draw_error(path))?;
            }
        }
        for l in &panel.lines {
            if l.points.is_empty() {
                continue;
            }
            let colour = l.colour;
            let style = ShapeStyle::from(&colour).stroke_width(2);
            if l.points.len() == 1 {
                c.draw_series(l.points.iter().map(|p| Circle::new(*p, 4, style.filled())))
            } else {
                c.draw_series(LineSeries::new(l.points.iter().copied(), style))
            }
            .map_err(draw_error(path))?
            .label(l.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], ShapeStyle::from(&colour).stroke_width(2))
            });
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(draw_error(path))?;
    }
    root.present().map_err(draw_error(path))?;
    Ok(())
}
