#!/bin/bash
# e2e: the shipped example inventory (config-examples/ansible/
# inventory.example.yml) renders, for every node in it, a configuration
# that cairn -test accepts, and that says what the inventory means.
# ansible.sh deploys a mesh of its own inventory on machines; this test
# takes the one a user copies, with no machine at all: a play on this
# host (connection local) gives each inventory node a directory of its
# own (cairn_config_dir), signs its certificate there with the tree's
# cairn-cert from the inventory's name, address, groups and subnets, and
# renders the role's template with the role's defaults (a scratch role
# holding a copy of them, so that the inventory's values override them as
# they do in the role) through template's validate: cairn -test.  Then
# the rendered files are read back.  Last, a listen port out of range
# must be refused by that validation.
# No namespaces: nothing here touches the network.
# e2e: no-san
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
ANS="$E2E_TOP/config-examples/ansible"
INV="$ANS/inventory.example.yml"
command -v ansible-playbook >/dev/null ||
	{ echo "not ok 1 - ansible-playbook is missing (scripts/deps.sh installs it)"; echo "1..1"; exit 1; }
need "$NODE" "$CT"

# the scratch role: the real defaults, and three tasks
mkdir -p roles/render/defaults roles/render/tasks out
cp "$ANS/roles/cairn/defaults/main.yml" roles/render/defaults/main.yml
cat >roles/render/tasks/main.yml <<'EOF'
---
- name: The host's directory
  ansible.builtin.file:
    path: "{{ cairn_config_dir }}"
    state: directory
    mode: "0700"
- name: Its certificate, from the inventory
  ansible.builtin.command:
    argv: >-
      {{ [cairn_cert_bin, 'sign', '-ca-crt', test_ca_crt, '-ca-key', test_ca_key,
          '-name', cairn_name, '-ip', cairn_ip,
          '-out-crt', cairn_cert_file, '-out-key', cairn_key_file]
         + (['-groups', cairn_groups | join(',')] if cairn_groups else [])
         + (['-subnets', cairn_subnets | join(',')] if cairn_subnets else []) }}
    creates: "{{ cairn_cert_file }}"
- name: The CA bundle
  ansible.builtin.copy:
    src: "{{ test_ca_crt }}"
    dest: "{{ cairn_ca_file }}"
    mode: "0644"
- name: The configuration, checked with cairn -test
  ansible.builtin.template:
    src: "{{ test_template }}"
    dest: "{{ cairn_config_file }}"
    mode: "0600"
    validate: "{{ cairn_bin }} -test -config %s"
EOF
cat >render.yml <<'EOF'
---
- hosts: cairn_nodes
  connection: local
  gather_facts: false
  roles: [render]
EOF
"$CT" ca -name "example CA" -out-crt ca.crt -out-key ca.key >ca.log 2>&1 ||
	{ diag ca.log; echo "not ok 1 - cairn-cert ca"; echo "1..1"; exit 1; }

# play EXTRA-VARS...: the play over the example inventory, its output in
# play.log
play() {
	env ANSIBLE_ROLES_PATH="$E2E_DIR/roles" ANSIBLE_NOCOLOR=1 \
	    ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$E2E_DIR/ansible-tmp" \
	    ANSIBLE_HOME="$E2E_DIR/ansible-home" ANSIBLE_FORKS=6 \
	    timeout 120 ansible-playbook -i "$INV" render.yml \
	    -e "cairn_config_dir=$E2E_DIR/out/{{ inventory_hostname }}" \
	    -e "cairn_bin=$NODE" -e "cairn_cert_bin=$CT" \
	    -e "test_ca_crt=$E2E_DIR/ca.crt" -e "test_ca_key=$E2E_DIR/ca.key" \
	    -e "test_template=$ANS/roles/cairn/templates/cairn.yml.j2" \
	    "$@" >play.log 2>&1
}

NODES="lh1 relay1 web1 db1 gw1 laptop1"
if play; then
	ok "the play renders the example inventory's configurations"
else
	not_ok "the play renders the example inventory's configurations"
	grep -E 'fatal|FAILED|ERROR|stderr' play.log | head -20 | diag
fi
n=0
for h in $NODES; do [ -s "out/$h.internal/config.yml" ] && n=$((n + 1)); done
check "one configuration for each of the 6 nodes, none for the CA machine" \
	bash -c "[ $n = 6 ] && [ ! -e out/ca.internal ]"
check "each passed cairn -test (template's validate)" \
	bash -c "[ \$(grep -Ec 'ok=4 .*failed=0' play.log) = 6 ]"
# each passes cairn -test again, as the file it is now
for h in $NODES; do
	check "$h: cairn -test on the rendered file" "$NODE" -test -config "out/$h.internal/config.yml"
done

# get HOST PYTHON-EXPR: the expression over the host's configuration c
get() {
	python3 -c 'import sys, yaml, json
c = yaml.safe_load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2]), sort_keys=True))' "out/$1.internal/config.yml" "$2"
}
# is HOST EXPR JSON: the expression's value is JSON
is() {
	local v
	v=$(get "$1" "$2") && [ "$v" = "$3" ] && return 0
	echo "$1: $2 is $v, wanted $3"
	return 1
}
check "lh1 is the lighthouse, asks no other" \
	is lh1 "[c['lighthouse']['am_lighthouse'], c['lighthouse']['hosts']]" '[true, []]'
check "web1 asks lh1 (10.42.0.1)" \
	is web1 "[c['lighthouse']['am_lighthouse'], c['lighthouse']['hosts']]" '[false, ["10.42.0.1"]]'
check "web1's static_host_map: the lighthouse's and the relay's underlay addresses" \
	is web1 "c['static_host_map']" '{"10.42.0.1": ["192.0.2.10:4242"], "10.42.0.40": ["192.0.2.40:4242"]}'
check "lh1's static_host_map has the relay, not itself" \
	is lh1 "c['static_host_map']" '{"10.42.0.40": ["192.0.2.40:4242"]}'
check "relay1 is a relay and names none; db1 names relay1" \
	bash -c "$(declare -f get is); is relay1 \"[c['relay']['am_relay'], c['relay']['relays']]\" '[true, []]' &&
		is db1 \"[c['relay']['am_relay'], c['relay']['relays']]\" '[false, [\"10.42.0.40\"]]'"
check "lh1's tun.dev is cairn0" is lh1 "c['tun']['dev']" '"cairn0"'
check "laptop1: listen.port 0, the office route via gw1" \
	is laptop1 "[c['listen']['port'], c['tun']['unsafe_routes']]" \
	'[0, [{"route": "192.168.10.0/24", "via": "10.42.0.30"}]]'
check "db1's inbound rules as in the inventory" \
	is db1 "c['firewall']['inbound']" \
	'[{"host": "any", "port": "any", "proto": "icmp"}, {"groups": ["web"], "port": 5432, "proto": "tcp"}]'
check "gw1's certificate carries its subnet and group" \
	bash -c "'$CT' print -json -path out/gw1.internal/host.crt | python3 -c '
import json, sys
d = json.load(sys.stdin)[\"details\"]
sys.exit(not (d[\"subnets\"] == [\"192.168.10.0/24\"] and d[\"groups\"] == [\"gateway\"]))'"
check "the pki paths are the host's own files" \
	is web1 "[c['pki']['ca'], c['pki']['cert'], c['pki']['key']]" \
	"[\"$E2E_DIR/out/web1.internal/ca.crt\", \"$E2E_DIR/out/web1.internal/host.crt\", \"$E2E_DIR/out/web1.internal/host.key\"]"

# the validation refuses: a port out of range fails (on two nodes, to be
# quick), and the file already there stays as it was
cp out/web1.internal/config.yml web1.before
if play -e cairn_listen_port=70000 --limit web1.internal,lh1.internal; then
	not_ok "listen.port 70000: the play fails"
else
	ok "listen.port 70000: the play fails"
fi
check "listen.port 70000: cairn -test refused it on both" \
	bash -c "[ \$(grep -c 'failed to validate' play.log) = 2 ]"
check "listen.port 70000: web1's configuration is unchanged" cmp web1.before out/web1.internal/config.yml
e2e_done
