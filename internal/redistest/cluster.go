package redistest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Cluster is a test-owned Redis Cluster: masters that share the 16384 slots
// and, optionally, replicas of them, each a Server on a spare port (and its
// cluster bus port). Nodes keeps every node the test started, dead or alive,
// in start order: the masters first, then the replicas.
type Cluster struct {
	Nodes []*Server

	tb      testing.TB
	ids     map[*Server]string // CLUSTER MYID of each node
	mu      sync.Mutex
	clients map[*Server]*redis.Client
}

// Waits of the cluster helpers. They are generous on purpose: a loaded
// machine must not fail them; they only bound a hang.
const (
	upWait       = 60 * time.Second // the cluster comes up, replicas in sync
	failOverWait = 60 * time.Second // a replica is promoted after a kill
	replicaSync  = 30 * time.Second // a replica catches up with its master
	pollEvery    = 20 * time.Millisecond
	commandWait  = 5 * time.Second // one command to one node
	plainTimeout = 2000            // ms, --cluster-node-timeout of StartCluster
)

// StartCluster starts n cluster nodes, splits the 16384 slots between them,
// joins them and waits until the cluster is up. The nodes are masters
// without replicas (--cluster-node-timeout 2000 ms).
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return startCluster(tb, n, 0, plainTimeout)
}

// ReplicaNodeTimeout is the --cluster-node-timeout of
// StartClusterWithReplicas, in milliseconds: short, so that a killed master
// is marked failed and replaced by its replica within seconds.
const ReplicaNodeTimeout = 1000

// StartClusterWithReplicas starts masters cluster nodes that split the
// slots and replicasEach replicas of each (masters*(1+replicasEach) nodes),
// and waits until every replica's link to its master is up, every node
// knows every other, sees each replica under its master and reports
// cluster_state:ok. A replica can always be promoted
// (--cluster-replica-validity-factor 0), starts its first sync at once
// (--repl-diskless-sync-delay 0), and a master is failed after
// ReplicaNodeTimeout without answers.
func StartClusterWithReplicas(tb testing.TB, masters, replicasEach int) *Cluster {
	tb.Helper()
	return startCluster(tb, masters, replicasEach, ReplicaNodeTimeout)
}

func startCluster(tb testing.TB, masters, replicasEach, nodeTimeoutMS int) *Cluster {
	tb.Helper()
	if masters < 1 || replicasEach < 0 {
		tb.Fatalf("redistest: a cluster of %d masters with %d replicas each", masters, replicasEach)
	}
	total := masters * (1 + replicasEach)
	c := &Cluster{tb: tb, ids: map[*Server]string{}, clients: map[*Server]*redis.Client{}}
	for range total {
		c.Nodes = append(c.Nodes, start(tb, true, []string{"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", strconv.Itoa(nodeTimeoutMS),
			"--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0"}))
	}
	ctx := context.Background()
	for _, s := range c.Nodes {
		id, err := c.Client(s).ClusterMyID(ctx).Result()
		if err != nil {
			tb.Fatalf("redistest: CLUSTER MYID: %v", err)
		}
		c.ids[s] = id
	}
	for i, s := range c.Nodes[:masters] {
		lo, hi := i*16384/masters, (i+1)*16384/masters-1
		if err := c.Client(s).ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			tb.Fatalf("redistest: CLUSTER ADDSLOTSRANGE: %v", err)
		}
	}
	first := c.Client(c.Nodes[0])
	for _, s := range c.Nodes[1:] {
		if err := first.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(s.Port)).Err(); err != nil {
			tb.Fatalf("redistest: CLUSTER MEET: %v", err)
		}
	}
	deadline := time.Now().Add(upWait)
	// Every node knows every other before a replica is attached: CLUSTER
	// REPLICATE needs the master's id in the replica's table.
	c.waitEvery(deadline, "every node to know the others", func(s *Server, cl *redis.Client) (bool, string) {
		info, err := cl.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(total)+"\r"), info + errText(err)
	})
	for r, s := range c.Nodes[masters:] {
		master := c.Nodes[r%masters]
		if err := c.Client(s).ClusterReplicate(ctx, c.ids[master]).Err(); err != nil {
			tb.Fatalf("redistest: CLUSTER REPLICATE: %v", err)
		}
	}
	for r, s := range c.Nodes[masters:] {
		master := c.Nodes[r%masters]
		c.waitNode(deadline, s, "a replica's link to its master", func(cl *redis.Client) (bool, string) {
			info, err := cl.Info(ctx, "replication").Result()
			return err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_port:"+strconv.Itoa(master.Port)+"\r") &&
				strings.Contains(info, "master_link_status:up"), info + errText(err)
		})
	}
	c.waitEvery(deadline, "cluster_state:ok and every replica known under its master", func(s *Server, cl *redis.Client) (bool, string) {
		info, err := cl.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false, info + errText(err)
		}
		nodes, err := c.nodes(ctx, cl)
		if err != nil {
			return false, err.Error()
		}
		for r, rs := range c.Nodes[masters:] {
			n, ok := nodes[c.ids[rs]]
			if !ok || !n.replica || n.master != c.ids[c.Nodes[r%masters]] {
				return false, fmt.Sprintf("replica %s not yet known under its master: %+v", rs.Addr, n)
			}
		}
		return true, ""
	})
	return c
}

// URL is the redis+cluster:// URL naming every node.
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		addrs[i] = s.Addr
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Client returns a plain (non-cluster) client of node s (one per node),
// closed when the test ends, for inspecting one node (INFO, ROLE, DBSIZE,
// ...).
func (c *Cluster) Client(s *Server) *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[s]; ok {
		return cl
	}
	cl := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: commandWait, WriteTimeout: commandWait, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	c.tb.Cleanup(func() { cl.Close() })
	c.clients[s] = cl
	return cl
}

// alive reports whether the test has not killed s.
func (s *Server) alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

func (c *Cluster) live() []*Server {
	var out []*Server
	for _, s := range c.Nodes {
		if s.alive() {
			out = append(out, s)
		}
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// waitNode polls cond on s until it holds, failing the test at deadline.
func (c *Cluster) waitNode(deadline time.Time, s *Server, what string, cond func(*redis.Client) (bool, string)) {
	c.tb.Helper()
	cl := c.Client(s)
	for {
		ok, detail := cond(cl)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("redistest: waited in vain for %s on %s: %s", what, s.Addr, detail)
		}
		time.Sleep(pollEvery)
	}
}

// waitEvery polls cond on every live node until it holds on all of them.
func (c *Cluster) waitEvery(deadline time.Time, what string, cond func(*Server, *redis.Client) (bool, string)) {
	c.tb.Helper()
	for _, s := range c.live() {
		c.waitNode(deadline, s, what, func(cl *redis.Client) (bool, string) { return cond(s, cl) })
	}
}

// node is one line of CLUSTER NODES.
type node struct {
	addr    string
	replica bool
	master  string // the id of a replica's master
	failed  bool   // fail or fail?
}

// nodes parses CLUSTER NODES as cl sees it, by node id.
func (c *Cluster) nodes(ctx context.Context, cl *redis.Client) (map[string]node, error) {
	txt, err := cl.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]node{}
	for line := range strings.Lines(txt) {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := strings.Split(f[2], ",")
		out[f[0]] = node{addr: addr, replica: slices.Contains(flags, "slave"), master: f[3],
			failed: slices.Contains(flags, "fail") || slices.Contains(flags, "fail?")}
	}
	return out, nil
}

// byAddr returns the node of the test with that address.
func (c *Cluster) byAddr(addr string) *Server {
	for _, s := range c.Nodes {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// slots returns CLUSTER SLOTS as the first live node that answers sees it.
func (c *Cluster) slots(ctx context.Context) []redis.ClusterSlot {
	c.tb.Helper()
	var lastErr error
	for _, s := range c.live() {
		sl, err := c.Client(s).ClusterSlots(ctx).Result()
		if err == nil {
			return sl
		}
		lastErr = err
	}
	c.tb.Fatalf("redistest: no live node answers CLUSTER SLOTS: %v", lastErr)
	return nil
}

// Masters returns the nodes that serve slots now (by CLUSTER SLOTS of a live
// node), in the order of their first slot. After a fail-over the promoted
// replica takes its old master's place; a killed master serves slots until
// the cluster has replaced it.
func (c *Cluster) Masters() []*Server {
	c.tb.Helper()
	sl := c.slots(context.Background())
	slices.SortFunc(sl, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	var out []*Server
	for _, r := range sl {
		if len(r.Nodes) == 0 {
			continue
		}
		if s := c.byAddr(r.Nodes[0].Addr); s != nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Slot returns the cluster slot of key (CLUSTER KEYSLOT on a live node).
func (c *Cluster) Slot(key string) int {
	c.tb.Helper()
	var lastErr error
	for _, s := range c.live() {
		n, err := c.Client(s).ClusterKeySlot(context.Background(), key).Result()
		if err == nil {
			return int(n)
		}
		lastErr = err
	}
	c.tb.Fatalf("redistest: CLUSTER KEYSLOT: %v", lastErr)
	return 0
}

// MasterOf returns the node serving slot now (by CLUSTER SLOTS).
func (c *Cluster) MasterOf(slot int) *Server {
	c.tb.Helper()
	for _, r := range c.slots(context.Background()) {
		if slot >= r.Start && slot <= r.End && len(r.Nodes) > 0 {
			return c.byAddr(r.Nodes[0].Addr)
		}
	}
	c.tb.Fatalf("redistest: no node serves slot %d", slot)
	return nil
}

// MasterFor returns the node serving key now.
func (c *Cluster) MasterFor(key string) *Server { return c.MasterOf(c.Slot(key)) }

// ReplicasOf returns the live nodes that replicate master (by CLUSTER NODES
// of a live node).
func (c *Cluster) ReplicasOf(master *Server) []*Server {
	c.tb.Helper()
	id := c.ids[master]
	var lastErr error
	for _, s := range c.live() {
		nodes, err := c.nodes(context.Background(), c.Client(s))
		if err != nil {
			lastErr = err
			continue
		}
		var out []*Server
		for _, n := range nodes {
			if r := c.byAddr(n.addr); n.replica && n.master == id && r != nil && r.alive() {
				out = append(out, r)
			}
		}
		return out
	}
	c.tb.Fatalf("redistest: no live node answers CLUSTER NODES: %v", lastErr)
	return nil
}

// slotsOf returns the slot ranges master serves now.
func (c *Cluster) slotsOf(master *Server) [][2]int {
	var out [][2]int
	for _, r := range c.slots(context.Background()) {
		if len(r.Nodes) > 0 && r.Nodes[0].Addr == master.Addr {
			out = append(out, [2]int{r.Start, r.End})
		}
	}
	return out
}

// KillMaster kills Masters()[i] at once (SIGKILL), as a crash would, and
// returns it. Writes it acknowledged but had not yet sent to its replicas
// are lost when a replica takes over (Redis replicates asynchronously); see
// SyncReplicas and FailOver. Use AwaitPromotion to wait for the cluster to
// replace it.
func (c *Cluster) KillMaster(i int) *Server {
	c.tb.Helper()
	m := c.Masters()
	if i < 0 || i >= len(m) {
		c.tb.Fatalf("redistest: master %d of %d", i, len(m))
	}
	m[i].Kill()
	return m[i]
}

// SyncReplicas pauses the writes of master (CLIENT PAUSE WRITE: clients
// sending writes or scripts wait; replication goes on) and waits until
// every replica has applied everything master applied, so that killing
// master right after loses no acknowledged write. It leaves the writes
// paused: the pause ends after pause, or when the caller kills master (as
// FailOver does). Call the Cluster's methods from the test's goroutine.
func (c *Cluster) SyncReplicas(master *Server, pause time.Duration) {
	c.tb.Helper()
	ctx := context.Background()
	replicas := c.ReplicasOf(master)
	if len(replicas) == 0 {
		c.tb.Fatalf("redistest: master %s has no replica", master.Addr)
	}
	mc := c.Client(master)
	if err := mc.Do(ctx, "CLIENT", "PAUSE", pause.Milliseconds(), "WRITE").Err(); err != nil {
		c.tb.Fatalf("redistest: CLIENT PAUSE: %v", err)
	}
	info, err := mc.Info(ctx, "replication").Result()
	if err != nil {
		c.tb.Fatalf("redistest: INFO replication: %v", err)
	}
	want := infoInt(info, "master_repl_offset")
	deadline := time.Now().Add(replicaSync)
	for _, r := range replicas {
		c.waitNode(deadline, r, "a replica to catch up with its paused master", func(cl *redis.Client) (bool, string) {
			info, err := cl.Info(ctx, "replication").Result()
			got := infoInt(info, "slave_repl_offset")
			return err == nil && got >= want, fmt.Sprintf("offset %d of %d%s", got, want, errText(err))
		})
	}
}

// infoInt reads an integer field of an INFO reply (-1 when absent).
func infoInt(info, field string) int64 {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// FailOverResult reports a fail-over: which master died, which replica took
// its slots, and when (times on the test's clock).
type FailOverResult struct {
	Old, New *Server
	Killed   time.Time // SIGKILL sent to Old
	Promoted time.Time // New first answered ROLE master
	OK       time.Time // every live node reported cluster_state:ok with New serving Old's slots
}

// Promotion is how long the cluster took from the kill to serving Old's
// slots again on every node.
func (r FailOverResult) Promotion() time.Duration { return r.OK.Sub(r.Killed) }

// FailOver kills master after SyncReplicas (so that no acknowledged write is
// lost: what a test then observes is the clients' behaviour, not Redis's
// asynchronous replication) and waits until a replica has taken over its
// slots (AwaitPromotion).
func (c *Cluster) FailOver(master *Server) FailOverResult {
	c.tb.Helper()
	c.SyncReplicas(master, 30*time.Second)
	killed := time.Now()
	master.Kill()
	r := c.AwaitPromotion(master)
	r.Killed = killed
	return r
}

// AwaitPromotion waits until one of old's replicas answers ROLE master and
// every live node reports cluster_state:ok and names that replica as the
// master of every slot old served. Call it right after killing old (its
// slots and replicas are read from the cluster, which still lists it).
// The result's Killed is the time of the call.
func (c *Cluster) AwaitPromotion(old *Server) FailOverResult {
	c.tb.Helper()
	ctx := context.Background()
	res := FailOverResult{Old: old, Killed: time.Now()}
	ranges := c.slotsOf(old)
	replicas := c.ReplicasOf(old)
	if len(ranges) == 0 || len(replicas) == 0 {
		c.tb.Fatalf("redistest: %s serves %d slot ranges and has %d replicas: nothing to fail over", old.Addr, len(ranges), len(replicas))
	}
	deadline := time.Now().Add(failOverWait)
	for res.New == nil {
		for _, r := range replicas {
			if role, err := c.Client(r).Do(ctx, "ROLE").Slice(); err == nil && len(role) > 0 && role[0] == "master" {
				res.New, res.Promoted = r, time.Now()
				break
			}
		}
		if res.New == nil {
			if time.Now().After(deadline) {
				c.tb.Fatalf("redistest: no replica of %s was promoted within %s", old.Addr, failOverWait)
			}
			time.Sleep(pollEvery)
		}
	}
	c.waitEvery(deadline, "cluster_state:ok with the promoted replica serving the slots", func(s *Server, cl *redis.Client) (bool, string) {
		info, err := cl.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false, info + errText(err)
		}
		sl, err := cl.ClusterSlots(ctx).Result()
		if err != nil {
			return false, err.Error()
		}
		for _, want := range ranges {
			served := false
			for _, r := range sl {
				if r.Start <= want[0] && want[1] <= r.End && len(r.Nodes) > 0 && r.Nodes[0].Addr == res.New.Addr {
					served = true
				}
			}
			if !served {
				return false, fmt.Sprintf("slots %d-%d not yet served by %s: %v", want[0], want[1], res.New.Addr, sl)
			}
		}
		return true, ""
	})
	res.OK = time.Now()
	return res
}

// KeysPerMaster returns how many keys each current master holds (DBSIZE),
// in the order of Masters().
func (c *Cluster) KeysPerMaster() []int64 {
	c.tb.Helper()
	var out []int64
	for _, m := range c.Masters() {
		n, err := c.Client(m).DBSize(context.Background()).Result()
		if err != nil {
			c.tb.Fatalf("redistest: DBSIZE on %s: %v", m.Addr, err)
		}
		out = append(out, n)
	}
	return out
}

// Balanced returns nil when every count is within tolerance (0.15 for
// 15 %) of their mean, or an error naming the counts and the worst
// deviation.
func Balanced(counts []int64, tolerance float64) error {
	if len(counts) == 0 {
		return fmt.Errorf("no counts")
	}
	var sum int64
	for _, n := range counts {
		sum += n
	}
	mean := float64(sum) / float64(len(counts))
	worst := 0.0
	for _, n := range counts {
		if mean == 0 {
			break
		}
		worst = max(worst, math.Abs(float64(n)-mean)/mean)
	}
	if mean == 0 || worst > tolerance {
		return fmt.Errorf("counts %v (mean %.1f): worst %.1f %% from the mean, more than %.1f %%", counts, mean, 100*worst, 100*tolerance)
	}
	return nil
}
