"""In-memory fakes of cloud services, for writing trial tests without a network."""
