package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// cpuMeter reads the CPU time (user and system, all threads) a process has
// used since it started.
type cpuMeter interface {
	cpuTime() (time.Duration, error)
}

// selfCPU is this process, read with getrusage(RUSAGE_SELF).
type selfCPU struct{}

func (selfCPU) cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// pidCPU is another process, read from /proc/<pid>/stat, whose utime and
// stime count every thread the process has had, in clock ticks of 10 ms:
// over a measured window of seconds with the server busy the error is well
// under 1%.
type pidCPU int

func (p pidCPU) cpuTime() (time.Duration, error) {
	proc, err := procfs.NewProc(int(p))
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", int(p), err)
	}
	st, err := proc.Stat()
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", int(p), err)
	}
	return time.Duration(st.CPUTime() * float64(time.Second)), nil
}

// pidListeningOn returns the id of the process on this machine that
// listens on addr's TCP port, found through the listening socket's inode
// in /proc/net/tcp{,6} and the process that holds it open. It fails when
// addr is not on this machine or no process of ours holds the socket.
func pidListeningOn(addr string) (int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	if !isLocal(host) {
		return 0, fmt.Errorf("%s is not an address of this machine", host)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w", portText, err)
	}
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, err
	}
	inode, err := listeningInode(fs, port)
	if err != nil {
		return 0, err
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return 0, err
	}
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	for _, p := range procs {
		// Processes of other users cannot be read; they are not ours.
		targets, err := p.FileDescriptorTargets()
		if err != nil {
			continue
		}
		for _, t := range targets {
			if t == want {
				return p.PID, nil
			}
		}
	}
	return 0, fmt.Errorf("no process of this user holds the socket listening on port %d", port)
}

// tcpListen is the state of a listening socket in /proc/net/tcp.
const tcpListen = 0x0A

func listeningInode(fs procfs.FS, port uint64) (uint64, error) {
	for _, read := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		lines, err := read()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
		for _, l := range lines {
			if l.St == tcpListen && l.LocalPort == port {
				return l.Inode, nil
			}
		}
	}
	return 0, fmt.Errorf("no socket listens on port %d", port)
}

func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// waitIdle waits until the process m measures uses less than a twentieth
// of a core over a quarter of a second, or until limit has passed, and
// returns how long it waited. A registry goes on working after the load
// stops (the read models catch up, Pebble flushes and compacts); the next
// phase of a comparison should not pay for it.
func waitIdle(m cpuMeter, limit time.Duration) time.Duration {
	const window = 250 * time.Millisecond
	start := time.Now()
	for time.Since(start) < limit {
		before, err := m.cpuTime()
		if err != nil {
			break
		}
		time.Sleep(window)
		after, err := m.cpuTime()
		if err != nil || after-before < window/20 {
			break
		}
	}
	return time.Since(start)
}
