"""Tests for txcloud.common."""
