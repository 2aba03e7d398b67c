"""Hostile: SoftmaxCrossEntropy.loss leaves sleeping processes behind.

One child in the worker's session, one in a session of its own, one
double-forked daemon with an empty environment, then as many more children
as the process limit allows (at most 100). The marker 987654 lets the test
find any survivor.
"""

import os
import subprocess


def _daemon():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve("/bin/sleep", ["sleep", "987654"], {})
        os._exit(0)
    os.waitpid(pid, 0)


class SoftmaxCrossEntropy(SoftmaxCrossEntropy):  # noqa: F821 (the chapter's)
    def loss(self, y_true, y_pred):
        subprocess.Popen(["sleep", "987654"])
        subprocess.Popen(["sleep", "987654"], start_new_session=True)
        _daemon()
        for _ in range(100):
            try:
                subprocess.Popen(["sleep", "987654"])
            except OSError:
                break
        return 0.0
