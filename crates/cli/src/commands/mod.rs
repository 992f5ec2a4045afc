//! One file per subcommand: its clap `Args` and `run`.
pub(crate) mod eval;
pub(crate) mod eval_math;
pub(crate) mod eval_srl;
pub(crate) mod grade;
pub(crate) mod model;
pub(crate) mod prepare;
pub(crate) mod replay;
pub(crate) mod reward;
pub(crate) mod sandbox;
pub(crate) mod serve;
pub(crate) mod train;
