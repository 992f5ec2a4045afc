//! Readers for SWE-smith trajectories and s1K-1.1, replay into steps, and the prepare pipeline.
