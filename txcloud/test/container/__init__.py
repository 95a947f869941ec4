"""Tests for txcloud."""
