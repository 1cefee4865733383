# test/e2e/ansible/connection_plugins/cairn_nsenter.py: a test-only
# Ansible connection plugin for test/e2e/ansible.sh.  Each inventory host
# there is a container: a systemd booted as PID 1 (systemd-nspawn) in its
# own PID, mount, UTS, IPC and cgroup namespaces and in a network
# namespace of the test's.  This plugin runs a task's commands in all of
# that container's namespaces with nsenter(1), so the role runs exactly as
# over SSH on a real machine: its systemctl talks to the container's
# systemd, its files land in the container's root.
#
# The host is named by the host PID of the container's PID 1, the
# inventory variable ansible_nsenter_pid.  Files are copied with cat(1)
# inside the container, so paths resolve as the container sees them
# (symbolic links, mounts), never through the host's view.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: cairn_nsenter
    short_description: run tasks inside a container's namespaces (tests only)
    description:
        - Runs commands with nsenter --target PID --all, where PID is the
          host PID of the container's init.  Test-only.
    author: cairn
    extends_documentation_fragment:
        - connection_pipelining
    options:
      nsenter_pid:
        description: host PID of the container's PID 1
        required: true
        vars:
          - name: ansible_nsenter_pid
'''

import os
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils._text import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()

# What a login over SSH would give root: a clean environment, nothing of
# the controller's (ANSIBLE_*, the test's variables) leaks in.
ENV = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
       'HOME=/root', 'LANG=C.UTF-8', 'USER=root', 'LOGNAME=root', 'SHELL=/bin/sh']


class Connection(ConnectionBase):
    transport = 'cairn_nsenter'
    has_pipelining = True
    default_user = 'root'

    def _pid(self):
        pid = str(self.get_option('nsenter_pid'))
        if not pid.isdigit() or not os.path.isdir('/proc/' + pid):
            raise AnsibleConnectionFailure('container init PID %s is not running' % pid)
        return pid

    def _enter(self):
        return ['nsenter', '--target', self._pid(), '--all', '--'] + ENV

    def _connect(self):
        if not self._connected:
            self._pid()
            self._play_context.remote_user = 'root'
            display.vvv(u'NSENTER %s' % self._pid(), host=self._play_context.remote_addr)
            self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        argv = self._enter() + ['/bin/sh', '-c', to_bytes(cmd)]
        display.vvv(u'EXEC %s' % to_text(cmd), host=self._play_context.remote_addr)
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd='/')
        stdout, stderr = p.communicate(in_data)
        return (p.returncode, stdout, stderr)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv(u'PUT %s TO %s' % (in_path, out_path), host=self._play_context.remote_addr)
        if not os.path.exists(to_bytes(in_path, errors='surrogate_or_strict')):
            raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
        with open(to_bytes(in_path, errors='surrogate_or_strict'), 'rb') as f:
            p = subprocess.Popen(self._enter() + ['/bin/sh', '-c', 'cat > "$1"', 'put', out_path],
                                 stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/')
            _, stderr = p.communicate()
        if p.returncode != 0:
            raise AnsibleError('failed to transfer file to %s: %s' % (out_path, to_text(stderr)))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv(u'FETCH %s TO %s' % (in_path, out_path), host=self._play_context.remote_addr)
        with open(to_bytes(out_path, errors='surrogate_or_strict'), 'wb') as f:
            p = subprocess.Popen(self._enter() + ['/bin/cat', '--', in_path],
                                 stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE, cwd='/')
            _, stderr = p.communicate()
        if p.returncode != 0:
            raise AnsibleError('failed to fetch %s: %s' % (in_path, to_text(stderr)))

    def close(self):
        self._connected = False
