#!/usr/bin/env bash
# test/integration/http_api.sh: the HTTP front's request-level suite
# (test/http/run.py) against the test cluster: through zvt._http_serve by
# default, over HTTP when ZVT_HTTP_URL names a running front.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/integration/common.bash"
python3 "$top/test/http/run.py"
