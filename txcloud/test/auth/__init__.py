"""Tests for txcloud.auth."""
