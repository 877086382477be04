#!/bin/busybox sh
# /init of the emulated SVM machine (scripts/svm-machine): loads KVM for AMD, then runs each
# case natively and under mvm and prints one line per case, `CASE <name> PASS` or
# `CASE <name> FAIL` with what differed; `SVM-DONE` at the end; then powers off.
/bin/busybox mkdir -p /bb
/bin/busybox --install -s /bb
export PATH=/bb:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# /tmp is the initramfs's own (writable): a tmpfs there would hide the files it holds when the
# checkout lives under /tmp.
mkdir -p /tmp
for m in irqbypass kvm ccp; do insmod /modules/$m.ko; done
insmod /modules/kvm-amd.ko npt=@NPT@
echo "SVM-MACHINE cpu=@CPU@ npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) kvm=$(test -c /dev/kvm && echo yes || echo no) pku=$(grep -c -w pku /proc/cpuinfo) avx=$(grep -c -w avx /proc/cpuinfo)"
MVM=@MVM@

# CASE name: PROGRAM ARGS natively and under mvm give the same stdout, stderr (but mvm's own
# `mvm: ` line) and status. Every mvm run here is killed after 120 s (status 137): a hung
# mvm is a failed case.
same() {
    name=$1
    shift
    "$@" > /tmp/n.out 2> /tmp/n.err < /dev/null
    ns=$?
    timeout -s KILL 120 $MVM run "$@" > /tmp/v.out 2> /tmp/v.all < /dev/null
    vs=$?
    grep -v '^mvm: ' /tmp/v.all > /tmp/v.err
    # (The shell that ran the native one says how it died, as bash does; mvm says it itself.)
    grep -v -x -e 'Segmentation fault' -e 'User defined signal [12]' -e 'Aborted' \
        -e 'Illegal instruction' -e 'Floating point exception' -e 'Killed' /tmp/n.err > /tmp/n.e2
    mv /tmp/n.e2 /tmp/n.err
    if [ $ns = $vs ] && cmp -s /tmp/n.out /tmp/v.out && cmp -s /tmp/n.err /tmp/v.err; then
        echo "CASE $name PASS $(cut -d' ' -f1 /proc/uptime)"
    else
        echo "CASE $name FAIL status native $ns mvm $vs"
        diff /tmp/n.out /tmp/v.out | head -20
        diff /tmp/n.err /tmp/v.err | head -20
        head -5 /tmp/v.all
    fi
}

# CASE name: `mvm run ARGS` ends with status WANT and prints WORDS (a grep pattern) somewhere.
status() {
    name=$1 want=$2 words=$3
    shift 3
    timeout -s KILL 120 $MVM run "$@" > /tmp/v.out 2>&1 < /dev/null
    vs=$?
    if [ $vs = $want ] && grep -q -e "$words" /tmp/v.out; then
        echo "CASE $name PASS $(cut -d' ' -f1 /proc/uptime)"
    else
        echo "CASE $name FAIL status $vs (want $want, '$words')"
        head -10 /tmp/v.out
    fi
}

@CASES@

echo SVM-DONE $(cat /proc/uptime)
poweroff -f
