"""A Ray cluster of several nodes on this machine, for tests; run as a script.

``python tests/local_cluster.py ADDRESS_FILE NODES CPUS_PER_NODE`` starts a
head and NODES-1 worker nodes with ``ray.cluster_utils.Cluster`` (each node
its own raylet and object store), writes the head's address to
ADDRESS_FILE once every node is up, and keeps the cluster until its stdin
closes. A process of its own, because a test process may already hold a
Ray runtime, and so that the test can end it, and all it started, by session.
"""
from __future__ import annotations

import os
import sys

# Small object stores: three nodes on a small machine, and the test data is a few MB.
OBJECT_STORE_BYTES = 200 * 2**20


def main(address_file: str, nodes: int, cpus: int) -> None:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": cpus, "object_store_memory": OBJECT_STORE_BYTES})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus, object_store_memory=OBJECT_STORE_BYTES)
        cluster.wait_for_nodes()
        temp = f"{address_file}.tmp"
        with open(temp, "w") as fh:
            fh.write(cluster.address)
        os.replace(temp, address_file)      # the test polls for this file: never half written
        sys.stdin.read()                    # until the test closes our stdin
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
