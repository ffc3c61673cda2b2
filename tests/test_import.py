"""``import minikeras`` stays light: h5py is loaded on the first save or load, and urllib's
HTTP client (with ssl) on the first download or RemoteMonitor post, not before."""

import subprocess
import sys


def test_import_does_not_load_h5py_or_tensorflow():
    code = ("import sys, minikeras; print(sorted(m for m in ('h5py', 'tensorflow', 'keras', "
            "'urllib.request', 'ssl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
