"""Operations over HTTP: health, Prometheus metrics and a read-only status page."""
