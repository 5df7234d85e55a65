"""Settings of the benchmark's servers: production settings plus the bench's own URLs."""

import os

# The benchmark's throwaway database needs a key like any production run; not a secret.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-" + "b" * 20)

from oms_site.settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
