Container drivers for Docker (Unix socket, TCP, TLS client certificates),
Joyent Triton (the Docker driver over Triton's TLS endpoints), Kubernetes
(namespaces as clusters, pods' containers as containers, kubeconfig files)
and Amazon ECS, plus Docker Hub and Distribution v2 registry clients in
``txcloud.container.utils.docker``.
