//! Sandbox trait, Docker implementation on bollard, SWE-agent tools, task environments.
