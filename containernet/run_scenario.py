#!/usr/bin/env python3
"""Build a livepath scenario's network with the Mininet (or Containernet) API and run it.

Reads the topology JSON that `livepath export --format topology <scenario>` writes: one host per
scenario host, Linux bridges, TCLink with `bw` on every link and `delay` only where the kernel has
sch_netem. Two ways to use it:

  sudo /usr/bin/python3 containernet/run_scenario.py topology.json [--mode cdn|p2p] [--out DIR]
      builds the network, runs the scenario's services on their hosts, prints each viewer's
      median delay, tears everything down.
  ... --control stdio
      what `livepath run --backend mininet` uses: builds the network, prints one JSON line
      {"event": "ready", "hosts": {id: {name, pid, ip, intf}}, "netem": bool, ...}, then answers
      {"cmd": "counters"} lines and tears everything down on {"cmd": "stop"}, EOF or SIGTERM.
  ... --cleanup
      removes what a crashed run of this topology left behind (bridges, veths, host processes).
"""

import argparse
import fcntl
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

from mininet.link import Link, TCIntf
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge

try:  # Containernet is Mininet plus Docker hosts; plain Mininet hosts otherwise.
    from mininet.node import Docker  # noqa: F401  (only Containernet has it)
    from mininet.net import Containernet
    HAVE_CONTAINERNET = True
except ImportError:
    HAVE_CONTAINERNET = False

# Mininet's TCIntf accepts bandwidths up to 1000 Mbit/s; faster links are left unshaped (a
# 10 Gbit/s "unconstrained" link is never a bottleneck of a live stream).
MAX_SHAPED_MBIT = 1000.0
LOCK_PATH = "/run/lock/livepath-mininet.lock"
IMAGE = os.environ.get("LIVEPATH_IMAGE", "livepath:latest")
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


# htb's token bucket must hold what the link sends in one timer tick (~1 ms), or a fast link is
# under-shaped; but a full bucket lets that much through at once, ahead of its serialization (with
# Mininet's fixed 15 kB a 7.8 kB frame crossed a 10 Mbit/s link in no time). Two full-size frames
# at least; segmentation offload is off so htb sees frames, not 64 kB super-packets.
HTB_BURST_S = 0.001
HTB_MIN_BURST_BYTES = 2 * 1514
# htb's quantum (bytes a class may send per round) defaults to rate / r2q (r2q 10) and the kernel
# clamps it to [MTU, 200000] with a warning ("quantum of class … is big"): set it for the rate.
HTB_MAX_QUANTUM = 200000
HTB_MIN_QUANTUM = 1514


def htb_params(mbit_s):
    """burst and quantum (bytes) for an htb class of `mbit_s`: see HTB_BURST_S and HTB_MAX_QUANTUM."""
    bytes_s = mbit_s * 1e6 / 8
    burst = max(HTB_MIN_BURST_BYTES, int(bytes_s * HTB_BURST_S))
    quantum = min(HTB_MAX_QUANTUM, max(HTB_MIN_QUANTUM, int(bytes_s / 10)))
    return burst, quantum


class ShapedIntf(TCIntf):
    """Mininet's TCIntf with htb's burst and quantum set for the link's rate (see htb_params)."""

    def config(self, **params):
        result = TCIntf.config(self, **params)
        self.cmd("ethtool -K", self, "tso off gso off")
        return result

    def bwCmds(self, bw=None, **kwargs):
        cmds, parent = TCIntf.bwCmds(self, bw=bw, **kwargs)
        if bw is None or kwargs.get("use_hfsc") or kwargs.get("use_tbf"):
            return cmds, parent
        burst, quantum = htb_params(bw)
        out = []
        for c in cmds:
            if " htb rate " in c:
                c = c.replace("burst 15k", "burst %d cburst %d quantum %d" % (burst, burst, quantum))
            out.append(c)
        return out, parent


class ShapedLink(Link):
    """TCLink with ShapedIntf on both ends."""

    def __init__(self, node1, node2, **params):
        params["intf"] = ShapedIntf
        Link.__init__(self, node1, node2, **params)


def log(msg):
    sys.stderr.write("run_scenario: %s\n" % msg)
    sys.stderr.flush()


def netem_available():
    """Is sch_netem usable? Probed on a throwaway veth pair, never on an existing interface."""
    if shutil.which("modprobe"):
        subprocess.run(["modprobe", "sch_netem"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a, b = "lpnm%da" % os.getpid(), "lpnm%db" % os.getpid()
    if subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], stderr=subprocess.DEVNULL).returncode != 0:
        return False
    try:
        return subprocess.run(["tc", "qdisc", "add", "dev", a, "root", "netem", "delay", "1ms"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    finally:
        subprocess.run(["ip", "link", "del", a], stderr=subprocess.DEVNULL)


def docker_works():
    if not HAVE_CONTAINERNET or not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def mbit(bps):
    m = bps / 1e6
    return None if m > MAX_SHAPED_MBIT else m


def link_params(up_bps, down_bps, latency_ms, netem):
    """TCLink params: intf1's egress is a → b (e.g. a host's uplink), intf2's is b → a."""
    p1, p2 = {"bw": mbit(up_bps)}, {"bw": mbit(down_bps)}
    if netem and latency_ms > 0:
        # netem delays egress: the same delay on both ends is `latency_ms` one way, each way.
        p1["delay"] = p2["delay"] = "%.3fms" % latency_ms
    return p1, p2


class Network:
    """The scenario's Mininet network; always torn down by stop(), also after a partial build."""

    def __init__(self, topo, netem, use_docker, repo_root):
        self.topo = topo
        self.netem = netem
        self.use_docker = use_docker
        self.hosts = {}
        cls = Containernet if use_docker else Mininet
        self.net = cls(topo=None, build=False, controller=None, switch=LinuxBridge, link=ShapedLink,
                       autoSetMacs=True, autoStaticArp=True, waitConnected=False)
        self.repo_root = repo_root

    def build(self):
        t = self.topo
        switches = {s["id"]: self.net.addSwitch(s["name"], cls=LinuxBridge) for s in t["switches"]}
        for h in t["hosts"]:
            if self.use_docker:
                # Same paths inside as outside: the lab passes absolute paths to the services.
                node = self.net.addDocker(h["name"], ip=h["ip"], dimage=IMAGE,
                                          volumes=["%s:%s" % (self.repo_root, self.repo_root)])
            else:
                node = self.net.addHost(h["name"], ip=h["ip"])
            self.hosts[h["id"]] = node
            a = h["access"]
            p1, p2 = link_params(a["uplinkBps"], a["downlinkBps"], a["latencyMs"], self.netem)
            self.net.addLink(node, switches[a["switch"]], cls=ShapedLink, params1=p1, params2=p2)
        for l in t["links"]:
            p1, p2 = link_params(l["bandwidthBps"], l["bandwidthBps"], l["latencyMs"], self.netem)
            self.net.addLink(switches[l["a"]], switches[l["b"]], cls=ShapedLink, params1=p1, params2=p2)
        self.net.build()
        self.net.start()

    def describe(self):
        out = {}
        for h in self.topo["hosts"]:
            node = self.hosts[h["id"]]
            out[h["id"]] = {"name": h["name"], "pid": node.pid, "ip": h["ip"].split("/")[0], "intf": node.defaultIntf().name}
        return out

    def counters(self):
        """Bytes through each host's interface, read inside its namespace (/proc/net/dev is per netns)."""
        out = {}
        for hid, node in self.hosts.items():
            intf = node.defaultIntf().name
            for line in node.cmd("cat /proc/net/dev").splitlines():
                name, _, rest = line.partition(":")
                if name.strip() == intf:
                    f = rest.split()
                    out[hid] = {"intf": intf, "rxBytes": int(f[0]), "rxPackets": int(f[1]), "txBytes": int(f[8]), "txPackets": int(f[9])}
        return out

    def stop(self):
        kill_host_processes([n.pid for n in self.hosts.values() if n.pid])
        try:
            self.net.stop()
        finally:
            remove_leftovers(self.topo)


def netns_of(pid):
    try:
        return os.readlink("/proc/%d/ns/net" % pid)
    except OSError:
        return None


def kill_host_processes(host_pids):
    """SIGTERM, then SIGKILL, every process in a host's network namespace but the host's shell:
    services the lab started with `mnexec -a` are not children of the shell Mininet kills."""
    root = netns_of(1)
    spaces = {netns_of(p) for p in host_pids} - {None, root}
    shells = set(host_pids)

    def victims():
        found = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) not in shells and int(d) != os.getpid() and netns_of(int(d)) in spaces:
                found.append(int(d))
        return found

    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 1.0)):
        pids = victims()
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + wait
        while pids and time.time() < deadline:
            time.sleep(0.1)
            pids = victims()
        if not pids:
            return


def remove_leftovers(topo):
    """`mn -c`, limited to this topology's names: its bridges, its veths, its host shells."""
    names = [s["name"] for s in topo["switches"]] + [h["name"] for h in topo["hosts"]]
    for intf in os.listdir("/sys/class/net"):
        if any(intf == n or intf.startswith(n + "-eth") for n in names):
            subprocess.run(["ip", "link", "del", intf], stderr=subprocess.DEVNULL)
    for h in topo["hosts"]:
        # Mininet names each host's shell "mininet:<name>" in its argv.
        subprocess.run(["pkill", "-9", "-f", "^bash .*mininet:%s$" % h["name"]], stderr=subprocess.DEVNULL)


def take_lock():
    """Interface names are global: two runs at once would collide. One run at a time."""
    os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
    f = open(LOCK_PATH, "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit("run_scenario: another livepath Mininet run holds %s; wait for it or stop it" % LOCK_PATH)
    return f


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve_stdio(network, kernel_shaping):
    # linkShaping here is what the kernel can do; the lab decides what the services use.
    emit({"event": "ready", "netem": network.netem, "docker": network.use_docker, "linkShaping": kernel_shaping,
          "hosts": network.describe()})
    for line in sys.stdin:
        try:
            cmd = json.loads(line).get("cmd")
        except ValueError:
            continue
        if cmd == "counters":
            emit({"event": "counters", "hosts": network.counters()})
        elif cmd == "stop":
            break


class Service:
    """One livepath service process on a host, driven over its stdio control channel."""

    def __init__(self, node, argv, log_path):
        self.log = open(log_path, "w")
        self.proc = node.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                               universal_newlines=True, bufsize=1)
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.events.append(e)
                self.cond.notify_all()
        with self.cond:
            self.events.append({"event": "exit"})
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def send(self, obj):
        try:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass


def run_standalone(network, topo, shaping, mode, out):
    """The lab's sequence in Python: origin, edges, viewers; start; wait for the last chunk; stop."""
    node_bin = shutil.which("node") or sys.exit("run_scenario: `node` (Node 20) is not on PATH")
    cli = os.path.join(network.repo_root, "bin", "livepath.js")
    raw, logs = os.path.join(out, "raw"), os.path.join(out, "logs")
    os.makedirs(raw, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    ips = {h["id"]: h["ip"].split("/")[0] for h in topo["hosts"]}
    common = ["--scenario", topo["scenarioPath"], "--seed", str(topo["seed"]), "--out", raw,
              "--link-shaping", shaping, "--control", "stdio", "--metrics-port", "0",
              "--payload", "virtual" if topo.get("virtualPayload", True) else "real"]
    directory, services = {}, []
    try:
        tracker = None
        for s in topo["services"]:
            if mode not in s.get("modes", [mode]):
                continue
            argv = [node_bin, cli] + s["argv"] + ["--listen", "%s:0" % ips[s["host"]], "--proc", s["proc"]] + common
            if s["role"] != "origin":
                argv += ["--directory", ",".join("%s=%s" % kv for kv in directory.items())]
            if s["role"] == "peers":
                argv += ["--mode", mode] + (["--tracker", tracker] if tracker else [])
            svc = Service(network.hosts[s["host"]], argv, os.path.join(logs, s["proc"] + ".log"))
            services.append(svc)
            ready = svc.wait_for(lambda e: e.get("event") in ("ready", "exit"), READY_TIMEOUT_S)
            if not ready or ready["event"] != "ready":
                raise RuntimeError("%s did not become ready; see %s" % (s["proc"], svc.log.name))
            if s["role"] == "tracker":
                tracker = ready["address"]
            for nid in s["nodeIds"]:
                directory[nid] = ready["address"]
        start_us = int(time.time() * 1e6) + 1_000_000
        for svc in services:
            svc.send({"cmd": "start", "atUs": start_us})
        log("broadcast starts; %s s of stream" % topo["durationS"])
        services[0].wait_for(lambda e: e.get("finished") or e.get("event") == "exit", topo["durationS"] + 30)
        time.sleep(topo["drainS"])
    finally:
        for svc in services:
            svc.send({"cmd": "stop"})
        for svc in services:
            try:
                svc.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                svc.proc.kill()
    print_delays(raw)


def print_delays(raw):
    delays = {}
    for f in sorted(os.listdir(raw)):
        if f.endswith(".chunks.csv"):
            with open(os.path.join(raw, f)) as fh:
                next(fh, None)
                for line in fh:
                    c = line.rstrip("\n").split(",")
                    if len(c) > 6:
                        delays.setdefault(c[0], ([], float(c[5])))[0].append(float(c[4]))
    print("%-16s %8s %12s %10s" % ("viewer", "chunks", "median ms", "bound ms"))
    for v, (d, bound) in sorted(delays.items()):
        print("%-16s %8d %12.1f %10.1f" % (v, len(d), statistics.median(d), bound))
    print("raw records: %s (summarize them with `livepath run --backend mininet` for the full report)" % raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("topology", help="JSON from `livepath export --format topology <scenario>`")
    ap.add_argument("--control", choices=["stdio"], help="be driven by `livepath run --backend mininet`")
    ap.add_argument("--mode", choices=["cdn", "p2p"], default="cdn", help="standalone: which path viewers use")
    ap.add_argument("--out", help="standalone: results directory (default: next to the topology file)")
    ap.add_argument("--cleanup", action="store_true", help="remove what a crashed run of this topology left")
    ap.add_argument("--no-docker", action="store_true", help="plain Mininet hosts even where Containernet works")
    args = ap.parse_args()

    with open(args.topology) as f:
        topo = json.load(f)
    if topo.get("format") != "livepath-topology/1":
        sys.exit("run_scenario: %s is not a livepath topology (export one with `livepath export --format topology`)" % args.topology)
    if os.geteuid() != 0:
        sys.exit("run_scenario: Mininet needs root: run with sudo")
    setLogLevel(os.environ.get("LIVEPATH_MININET_LOG", "warning"))
    if args.cleanup:
        remove_leftovers(topo)
        return

    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lock = take_lock()
    # The lab tears down through stdin/stop; Ctrl-C in the lab's terminal must not kill us first.
    if args.control:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(143))

    netem = netem_available()
    kernel_shaping = "kernel" if netem else "delay-only"
    # Virtual synthetic chunks carry only their size: no bytes for htb/netem to shape, so linkemu does it.
    shaping = "linkemu" if topo.get("virtualPayload", True) else kernel_shaping
    network = Network(topo, netem, docker_works() and not args.no_docker, repo_root)
    log("%d hosts, %d bridges; netem %s → kernel shapes %s; %s hosts" % (
        len(topo["hosts"]), len(topo["switches"]), "available" if netem else "missing", kernel_shaping,
        "Containernet docker" if network.use_docker else "Mininet"))
    try:
        network.build()
        if args.control:
            serve_stdio(network, kernel_shaping)
        else:
            out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.topology)), "python-run")
            run_standalone(network, topo, shaping, args.mode, out)
    finally:
        network.stop()
        lock.close()
        if args.control:
            try:
                emit({"event": "stopped"})
            except (BrokenPipeError, ValueError):
                pass  # the lab is gone; the teardown above is what mattered


if __name__ == "__main__":
    main()
