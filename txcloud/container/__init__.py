"""Containers: Docker, Kubernetes, Amazon ECS and Joyent Triton."""
