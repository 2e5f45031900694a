# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
"""Offline stand-in for the pip bootstrap script that ansible-test downloads into ~/.ansible/test/cache/.

ansible-test runs that script inside each fresh sanity virtualenv with pip's install arguments
(``pip==<version>`` and options). This machine reaches only the package registries, so instead of the
downloaded get-pip: ensurepip, then install the requested pip from the registry.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments])
