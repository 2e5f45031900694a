# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
