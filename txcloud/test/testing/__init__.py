"""Tests for txcloud.testing."""
