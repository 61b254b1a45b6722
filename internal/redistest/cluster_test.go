package redistest_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/verifyfn/verifyfn/internal/redistest"
)

// A cluster with replicas comes up with three masters serving every slot,
// each with a replica in sync; a killed master is replaced by its replica,
// which then answers ROLE master, serves the slots and still holds the keys
// its master had.
func TestClusterWithReplicasFailOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	ctx := context.Background()
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	if len(cl.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(cl.Nodes))
	}
	masters := cl.Masters()
	if len(masters) != 3 {
		t.Fatalf("%d masters serve slots, want 3", len(masters))
	}
	for _, m := range masters {
		if role := role(t, cl, m); role != "master" {
			t.Fatalf("master %s answers ROLE %s", m.Addr, role)
		}
		reps := cl.ReplicasOf(m)
		if len(reps) != 1 {
			t.Fatalf("master %s has %d replicas, want 1", m.Addr, len(reps))
		}
		if role := role(t, cl, reps[0]); role != "slave" {
			t.Fatalf("replica %s answers ROLE %s", reps[0].Addr, role)
		}
	}

	// Write keys on the victim's slots through the victim, then fail it over.
	victim := masters[1]
	var keys []string
	for i := 0; len(keys) < 50; i++ {
		k := "k" + strconv.Itoa(i)
		if cl.MasterFor(k) == victim {
			keys = append(keys, k)
		}
	}
	vc := cl.Client(victim)
	for _, k := range keys {
		if err := vc.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	replica := cl.ReplicasOf(victim)[0]
	r := cl.FailOver(victim)
	t.Logf("fail-over: kill to ROLE master %s, to cluster_state:ok everywhere %s", r.Promoted.Sub(r.Killed), r.Promotion())
	if r.Old != victim || r.New != replica {
		t.Fatalf("fail-over replaced %s by %s; want %s by %s", r.Old.Addr, r.New.Addr, victim.Addr, replica.Addr)
	}
	if role := role(t, cl, replica); role != "master" {
		t.Fatalf("the promoted replica answers ROLE %s", role)
	}
	now := cl.Masters()
	if len(now) != 3 || slices.Contains(now, victim) || !slices.Contains(now, replica) {
		t.Fatalf("masters after the fail-over %v", addrs(now))
	}
	rc := cl.Client(replica)
	for _, k := range keys {
		if m := cl.MasterFor(k); m != replica {
			t.Fatalf("key %s is served by %s, want the promoted %s", k, m.Addr, replica.Addr)
		}
		if v, err := rc.Get(ctx, k).Result(); err != nil || v != "v-"+k {
			t.Fatalf("GET %s on the promoted replica: %q, %v", k, v, err)
		}
	}
	if err := rc.Set(ctx, keys[0], "after", 0).Err(); err != nil {
		t.Fatalf("SET on the promoted replica: %v", err)
	}
}

// KillMaster crashes a master without syncing its replica; the cluster
// still promotes the replica.
func TestClusterKillMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	old := cl.Masters()[0]
	replica := cl.ReplicasOf(old)[0]
	if killed := cl.KillMaster(0); killed != old {
		t.Fatalf("KillMaster(0) killed %s, want %s", killed.Addr, old.Addr)
	}
	r := cl.AwaitPromotion(old)
	if r.New != replica {
		t.Fatalf("promoted %s, want %s", r.New.Addr, replica.Addr)
	}
	if m := cl.Masters(); m[0] != replica {
		t.Fatalf("first master after the crash %s, want %s", m[0].Addr, replica.Addr)
	}
}

// KeysPerMaster counts each master's keys: keys with distinct hash tags
// spread evenly over three masters, keys of one tag do not.
func TestClusterSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	ctx := context.Background()
	cl := redistest.StartCluster(t, 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs(cl.Nodes), DisableIdentity: true})
	defer cc.Close()
	set := func(format string) {
		for i := range 3000 {
			if err := cc.Set(ctx, fmt.Sprintf(format, i), "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	set("{d%d}:code")
	held := cl.KeysPerMaster()
	if total := held[0] + held[1] + held[2]; total != 3000 {
		t.Fatalf("keys per master %v: %d in all, want 3000", held, total)
	}
	if err := redistest.Balanced(held, 0.15); err != nil {
		t.Fatalf("keys of distinct tags: %v", err)
	}
	set("{acct}:code:d%d")
	if err := redistest.Balanced(cl.KeysPerMaster(), 0.15); err == nil {
		t.Fatal("3000 more keys of one hash tag counted as balanced")
	}
	if err := redistest.Balanced([]int64{100, 114, 86}, 0.15); err != nil {
		t.Fatal(err)
	}
	if err := redistest.Balanced([]int64{100, 116, 84}, 0.15); err == nil {
		t.Fatal("16 % off the mean counted as balanced")
	}
}

func role(t *testing.T, cl *redistest.Cluster, s *redistest.Server) string {
	t.Helper()
	v, err := cl.Client(s).Do(context.Background(), "ROLE").Slice()
	if err != nil || len(v) == 0 {
		t.Fatalf("ROLE on %s: %v %v", s.Addr, v, err)
	}
	r, _ := v[0].(string)
	return r
}

func addrs(ss []*redistest.Server) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Addr)
	}
	return out
}
