/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batched UDP I/O, shared by `xwgp server' and `xwgp client'
 * (docs/DESIGN.md section 2, "Batches"): recvmmsg into a ring of slots, and a send
 * queue per socket flushed with sendmmsg at the end of each receive batch.
 *
 * The send queue keeps the order datagrams were queued in (never reorders
 * one flow), merges a run of consecutive datagrams with the same
 * destination, the same source address and the same size (the last one
 * may be shorter) into one UDP GSO message (UDP_SEGMENT), and never blocks:
 * a datagram the kernel refuses (EAGAIN on a full buffer, EPERM, an
 * unreachable destination) is counted and dropped, and the rest of the
 * batch is still sent. A GSO message the kernel refuses is sent again as
 * single datagrams; when the refusal says the path cannot do GSO (EIO: no
 * checksum offload, EOPNOTSUPP) the queue stops merging.
 */
#ifndef XWGP_UDP_BATCH_H
#define XWGP_UDP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "xwgp_abi.h"

/* Datagrams per recvmmsg and per sendmmsg (and per send queue). */
#define UDP_BATCH 64
/* At most this many segments and bytes in one GSO message (the kernel's limits: 64, 64 KiB). */
#define UDP_GSO_MAX_SEGS  64
#define UDP_GSO_MAX_BYTES 60000

/* One queued message: a single datagram, or a GSO run of segments. */
struct udp_txmsg {
	struct sockaddr_in6 to;
	struct in6_addr from; /* with has_from: IPV6_PKTINFO source address */
	bool has_from;
	bool closed;		/* a shorter last segment was added: nothing more may join */
	uint16_t first, n_segs; /* iov[first .. first + n_segs) */
};

struct udp_txq {
	int fd;
	bool gso; /* may merge runs into GSO messages (cleared when the path refuses) */
	unsigned int n, n_iov; /* messages and datagrams queued */
	struct udp_txmsg m[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct mmsghdr msgs[UDP_BATCH];
	uint8_t cbuf[UDP_BATCH]
		    [CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))];
	/*
	 * Copies of the queued datagrams (arena != NULL): the caller's buffer
	 * may be reused before the flush (AF_XDP frames, one obfuscation
	 * buffer). NULL: zero copy, data must live until udp_txq_flush().
	 */
	uint8_t *arena;
	size_t arena_cap, arena_used;
	/* Totals since init, for the caller's counters. */
	uint64_t sent;	   /* datagrams the kernel took */
	uint64_t errors;   /* datagrams refused (dropped) */
	uint64_t calls;	   /* sendmmsg/sendmsg system calls */
	uint64_t gso_segs; /* datagrams sent inside GSO messages */
};

/*
 * A queue on fd; copy_bytes > 0 allocates an arena of that size (at least
 * the largest datagram queued). gso: merge runs. 0 or -ENOMEM.
 */
int udp_txq_init(struct udp_txq *q, int fd, size_t copy_bytes, bool gso);
void udp_txq_free(struct udp_txq *q);

/*
 * Queue one datagram from local (address only, family NONE or unspecified:
 * the kernel picks) to remote; flushes first when the queue or the arena is
 * full. Returns 0, or -EMSGSIZE when len does not fit the arena (dropped:
 * the caller counts it).
 */
int udp_txq_add(struct udp_txq *q, const struct xwgp_ep *local, const struct xwgp_ep *remote,
		const void *data, size_t len);

/* Send what is queued (never blocks); returns how many datagrams were refused. */
unsigned int udp_txq_flush(struct udp_txq *q);

/* recvmmsg into UDP_BATCH slots of slot_size bytes each. */
struct udp_rxb {
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_in6 from[UDP_BATCH];
	uint8_t cbuf[UDP_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))];
	uint8_t *bufs;
	size_t slot_size;
};

int udp_rxb_init(struct udp_rxb *rx, size_t slot_size);
void udp_rxb_free(struct udp_rxb *rx);

/* One recvmmsg (non-blocking): how many datagrams, 0 when none, -errno. */
int udp_rxb_recv(struct udp_rxb *rx, int fd);

/*
 * Datagram i of the last udp_rxb_recv: its payload and length, the remote
 * (src) and our address it was sent to (dst, with local_port). Returns
 * false when it was larger than a slot (cut short: drop it).
 */
bool udp_rxb_get(struct udp_rxb *rx, int i, uint16_t local_port, struct xwgp_ep *src,
		 struct xwgp_ep *dst, uint8_t **data, size_t *len);

#endif
