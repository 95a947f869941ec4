"""Object storage: containers (buckets) and the objects in them."""
