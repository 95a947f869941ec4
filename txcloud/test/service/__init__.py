"""Tests of txcloud.service, the inventory service behind ``twistd txcloud``."""
