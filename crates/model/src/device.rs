//! Our own `Device` and `DType` enums (tch stays behind local types), convertible to
//! tch's and parsed from CLI and config strings (`auto`, `cpu`, `cuda`, `cuda:1`; `f32`, `bf16`,
//! `f16`) by one `FromStr` each, which every command and the trainer's config use.

use crate::error::{ModelError, Result};
use std::fmt;
use std::str::FromStr;

/// Where tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// Host CPU.
    #[default]
    Cpu,
    /// CUDA device by ordinal.
    Cuda(usize),
}

impl Device {
    /// The tch device.
    pub fn to_tch(self) -> tch::Device {
        match self {
            Self::Cpu => tch::Device::Cpu,
            Self::Cuda(i) => tch::Device::Cuda(i),
        }
    }

    /// The first CUDA device when libtorch sees one, else the CPU (`auto`).
    pub fn auto() -> Self {
        if tch::Cuda::is_available() {
            Self::Cuda(0)
        } else {
            Self::Cpu
        }
    }

    /// Fails when CUDA is asked for but libtorch sees no GPU.
    pub fn check_available(self) -> Result<()> {
        match self {
            Self::Cpu => Ok(()),
            Self::Cuda(i) => {
                if tch::Cuda::is_available() && (i as i64) < tch::Cuda::device_count() {
                    Ok(())
                } else {
                    Err(ModelError::Input(format!(
                        "device cuda:{i} requested but libtorch sees {} CUDA device(s)",
                        tch::Cuda::device_count()
                    )))
                }
            }
        }
    }
}

impl FromStr for Device {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        let unknown = || ModelError::UnknownName {
            what: "device",
            name: s.to_string(),
            expected: "auto, cpu, cuda, cuda:N".into(),
        };
        match s {
            "auto" => Ok(Self::auto()),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => s.strip_prefix("cuda:").and_then(|n| n.parse().ok()).map(Self::Cuda).ok_or_else(unknown),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// Floating-point type of the weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DType {
    /// 32-bit float.
    #[default]
    F32,
    /// bfloat16.
    BF16,
    /// IEEE half.
    F16,
}

impl DType {
    /// The tch kind.
    pub fn to_kind(self) -> tch::Kind {
        match self {
            Self::F32 => tch::Kind::Float,
            Self::BF16 => tch::Kind::BFloat16,
            Self::F16 => tch::Kind::Half,
        }
    }

    /// The `torch_dtype` string of HF `config.json`.
    pub fn hf_name(self) -> &'static str {
        match self {
            Self::F32 => "float32",
            Self::BF16 => "bfloat16",
            Self::F16 => "float16",
        }
    }

    /// Parses HF `torch_dtype` names (`float32`, `bfloat16`, `float16`).
    pub fn from_hf_name(s: &str) -> Option<Self> {
        match s {
            "float32" | "float" => Some(Self::F32),
            "bfloat16" => Some(Self::BF16),
            "float16" | "half" => Some(Self::F16),
            _ => None,
        }
    }
}

impl FromStr for DType {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::BF16),
            "f16" | "fp16" | "float16" => Ok(Self::F16),
            _ => Err(ModelError::UnknownName { what: "dtype", name: s.to_string(), expected: "f32, bf16, f16".into() }),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::BF16 => "bf16",
            Self::F16 => "f16",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices_and_dtypes() {
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!("cuda".parse::<Device>().unwrap(), Device::Cuda(0));
        assert_eq!("cuda:3".parse::<Device>().unwrap(), Device::Cuda(3));
        assert!("tpu".parse::<Device>().is_err());
        assert_eq!("bf16".parse::<DType>().unwrap(), DType::BF16);
        assert_eq!(DType::from_hf_name("float16"), Some(DType::F16));
        assert!("f8".parse::<DType>().is_err());
    }
}
