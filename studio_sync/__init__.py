"""Studio sync: offload and verify takes (ASC MHL), a persistent upload queue, S3, studio ingest.

See docs/architecture.md, Studio sync.
"""

__all__: list = []
