"""Which of the driver's environment variables configure remote storage, for Ray workers.

``s3://`` paths are read and written through s3fs, which takes its endpoint,
credentials and client settings from the environment:

* ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) points at an
  S3-compatible store (MinIO, Ceph, R2, a local test server);
* ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``,
  ``AWS_PROFILE``, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``;
* ``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` tune botocore's own retries;
* ``FSSPEC_S3`` (a JSON object of s3fs arguments) and ``FSSPEC_S3_<ARG>`` set
  any s3fs option, likewise ``FSSPEC_GCS…`` for gcsfs;
* ``DCLM_REMOTE_RETRY_*`` set dclm's retry policy and ``DCLM_SPOOL_DIR`` the
  local folder where remote outputs are built (``dclm.io.remote_retry``,
  ``dclm.io.remote_files``).

Workers on other nodes do not share the driver's shell, so a joined Ray
cluster gets these variables with the job (Ray job ``runtime_env``); the
workers of the embedded runtime are the driver's descendants and inherit them.
Credentials set this way are visible to anyone who can read the Ray job's
metadata; on a shared cluster prefer instance roles, which need no variable
at all.
"""
from __future__ import annotations

import os
from typing import Mapping, Optional

FORWARDED_PREFIXES = ("AWS_", "FSSPEC_", "GOOGLE_APPLICATION_CREDENTIALS", "DCLM_REMOTE_RETRY_",
                      "DCLM_SPOOL_DIR")
# AWS variables that only make sense on the machine that set them.
NOT_FORWARDED = frozenset({"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"})


def storage_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The remote-storage settings of ``environ`` (default: this process), to hand to workers."""
    environ = os.environ if environ is None else environ
    return {key: value for key, value in sorted(environ.items())
            if key.startswith(FORWARDED_PREFIXES) and key not in NOT_FORWARDED}
