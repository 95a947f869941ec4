"""Tests of the txcloud command."""
