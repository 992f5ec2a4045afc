//! SRL reward: exact CPython difflib SequenceMatcher port, output-format parsing, math answer grading.
