// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "log.h"
#include "udp_batch.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

int udp_txq_init(struct udp_txq *q, int fd, size_t copy_bytes, bool gso)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->gso = gso;
	if (copy_bytes) {
		q->arena = malloc(copy_bytes);
		if (!q->arena)
			return -ENOMEM;
		q->arena_cap = copy_bytes;
	}
	return 0;
}

void udp_txq_free(struct udp_txq *q)
{
	free(q->arena);
	q->arena = NULL;
	q->arena_cap = q->arena_used = 0;
	q->n = q->n_iov = 0;
}

/* The last message may take a datagram of len bytes to `to' from `from' as a GSO segment. */
static bool can_join(const struct udp_txq *q, const struct sockaddr_in6 *to,
		     const struct in6_addr *from, bool has_from, size_t len)
{
	const struct udp_txmsg *m;
	size_t seg;

	if (!q->gso || !q->n)
		return false;
	m = &q->m[q->n - 1];
	seg = q->iov[m->first].iov_len;
	return !m->closed && len <= seg && m->n_segs < UDP_GSO_MAX_SEGS &&
	       seg * m->n_segs + len <= UDP_GSO_MAX_BYTES && m->has_from == has_from &&
	       (!has_from || !memcmp(&m->from, from, sizeof(*from))) &&
	       m->to.sin6_port == to->sin6_port &&
	       !memcmp(&m->to.sin6_addr, &to->sin6_addr, sizeof(to->sin6_addr));
}

int udp_txq_add(struct udp_txq *q, const struct xwgp_ep *local, const struct xwgp_ep *remote,
		const void *data, size_t len)
{
	struct sockaddr_in6 to;
	struct in6_addr from = {};
	bool has_from =
		local && local->family != XWGP_FAMILY_NONE && !xwgp_ep_is_unspecified(local);
	struct udp_txmsg *m;
	struct iovec *v;

	if (q->arena && len > q->arena_cap)
		return -EMSGSIZE;
	if (q->n_iov == UDP_BATCH || (q->arena && len > q->arena_cap - q->arena_used))
		udp_txq_flush(q);
	xwgp_ep_to_sin6(remote, &to);
	if (has_from)
		memcpy(&from, local->addr, sizeof(from));
	v = &q->iov[q->n_iov];
	v->iov_len = len;
	v->iov_base = (void *)data;
	if (q->arena) {
		v->iov_base = q->arena + q->arena_used;
		memcpy(v->iov_base, data, len);
		q->arena_used += len;
	}
	if (can_join(q, &to, &from, has_from, len)) {
		m = &q->m[q->n - 1];
		m->closed = len < q->iov[m->first].iov_len;
		m->n_segs++;
	} else {
		m = &q->m[q->n++];
		m->to = to;
		m->from = from;
		m->has_from = has_from;
		m->closed = false;
		m->first = (uint16_t)q->n_iov;
		m->n_segs = 1;
	}
	q->n_iov++;
	return 0;
}

/* The msghdr of message i; seg: one segment of it alone (GSO fallback), -1: the whole message. */
static void build(struct udp_txq *q, unsigned int i, int seg, struct msghdr *h)
{
	struct udp_txmsg *m = &q->m[i];
	struct cmsghdr *c;
	size_t clen = 0;

	memset(h, 0, sizeof(*h));
	h->msg_name = &m->to;
	h->msg_namelen = sizeof(m->to);
	h->msg_iov = &q->iov[seg < 0 ? m->first : m->first + seg];
	h->msg_iovlen = seg < 0 ? m->n_segs : 1;
	if (!m->has_from && h->msg_iovlen == 1)
		return;
	memset(q->cbuf[i], 0, sizeof(q->cbuf[i]));
	h->msg_control = q->cbuf[i];
	h->msg_controllen = sizeof(q->cbuf[i]);
	c = CMSG_FIRSTHDR(h);
	if (m->has_from) {
		/* Answer from the address the peer sent to (docs/DESIGN.md section 3). */
		struct in6_pktinfo pi = { .ipi6_addr = m->from };

		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		clen += CMSG_SPACE(sizeof(pi));
		c = CMSG_NXTHDR(h, c);
	}
	if (h->msg_iovlen > 1) {
		uint16_t size = (uint16_t)q->iov[m->first].iov_len;

		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(c), &size, sizeof(size));
		clen += CMSG_SPACE(sizeof(size));
	}
	h->msg_controllen = clen;
}

/* A GSO message the kernel refused: its segments one by one. Returns how many failed. */
static unsigned int send_segments(struct udp_txq *q, unsigned int i)
{
	unsigned int failed = 0;

	for (int k = 0; k < q->m[i].n_segs; k++) {
		struct msghdr h;

		build(q, i, k, &h);
		q->calls++;
		if (sendmsg(q->fd, &h, MSG_DONTWAIT) < 0)
			failed++;
	}
	return failed;
}

unsigned int udp_txq_flush(struct udp_txq *q)
{
	unsigned int i = 0, failed = 0;

	for (unsigned int k = 0; k < q->n; k++) {
		build(q, k, -1, &q->msgs[k].msg_hdr);
		q->msgs[k].msg_len = 0;
	}
	while (i < q->n) {
		int n = sendmmsg(q->fd, q->msgs + i, q->n - i, MSG_DONTWAIT);
		struct udp_txmsg *m;
		int err;

		q->calls++;
		if (n < 0 && errno == EINTR)
			continue;
		for (int k = 0; k < n; k++) {
			m = &q->m[i + k];
			q->sent += m->n_segs;
			q->gso_segs += m->n_segs > 1 ? m->n_segs : 0;
		}
		if (n > 0) {
			i += (unsigned int)n;
			continue;
		}
		/* Message i failed: drop it (or send its segments alone), then the rest. */
		err = n < 0 ? errno : EIO;
		m = &q->m[i];
		if (m->n_segs > 1) {
			unsigned int f;

			if (err == EIO || err == EOPNOTSUPP || err == ENOPROTOOPT) {
				pr_debug("UDP GSO refused (%s): single datagrams from now on",
					 strerror(err));
				q->gso = false;
			}
			f = send_segments(q, i);
			q->sent += m->n_segs - f;
			failed += f;
		} else {
			pr_debug("sendmmsg: %s", strerror(err));
			failed++;
		}
		i++;
	}
	q->errors += failed;
	q->n = q->n_iov = 0;
	q->arena_used = 0;
	return failed;
}

int udp_rxb_init(struct udp_rxb *rx, size_t slot_size)
{
	memset(rx, 0, sizeof(*rx));
	rx->bufs = calloc(UDP_BATCH, slot_size);
	if (!rx->bufs)
		return -ENOMEM;
	rx->slot_size = slot_size;
	return 0;
}

void udp_rxb_free(struct udp_rxb *rx)
{
	free(rx->bufs);
	rx->bufs = NULL;
}

int udp_rxb_recv(struct udp_rxb *rx, int fd)
{
	int n;

	for (int i = 0; i < UDP_BATCH; i++) {
		struct msghdr *m = &rx->msgs[i].msg_hdr;

		rx->iov[i].iov_base = rx->bufs + (size_t)i * rx->slot_size;
		rx->iov[i].iov_len = rx->slot_size;
		memset(m, 0, sizeof(*m));
		m->msg_name = &rx->from[i];
		m->msg_namelen = sizeof(rx->from[i]);
		m->msg_iov = &rx->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = rx->cbuf[i];
		m->msg_controllen = sizeof(rx->cbuf[i]);
	}
	n = recvmmsg(fd, rx->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

bool udp_rxb_get(struct udp_rxb *rx, int i, uint16_t local_port, struct xwgp_ep *src,
		 struct xwgp_ep *dst, uint8_t **data, size_t *len)
{
	struct msghdr *m = &rx->msgs[i].msg_hdr;

	*data = rx->iov[i].iov_base;
	*len = rx->msgs[i].msg_len;
	xwgp_ep_from_in6(src, &rx->from[i].sin6_addr, rx->from[i].sin6_port);
	memset(dst, 0, sizeof(*dst));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			xwgp_ep_from_in6(dst, &pi.ipi6_addr, htons(local_port));
		}
	}
	return !(m->msg_flags & MSG_TRUNC);
}
