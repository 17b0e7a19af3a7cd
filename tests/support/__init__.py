"""Data and models the tests build for themselves (imported by test modules; no tests here)."""
