//! Agentless-mini evaluation, SWE-bench-style grading, model backends.
