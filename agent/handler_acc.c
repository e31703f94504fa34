// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's per-session transport counters, per batch: a packet the
 * agent forwards from a session's current endpoint adds to the session's
 * entry here, and handler_flush() writes each session once
 * (wgit_agent_account), so what the storage costs is paid per session per
 * batch, not per packet (docs/DESIGN.md section 2, "Batches"). Packets that may roam
 * are not accumulated: the handler writes them at once, after flushing
 * this, so roaming reads exact seen times.
 */
#include "handler.h"

void handler_acc_flush(struct handler *h)
{
	for (unsigned int i = 0; i < h->n_acc; i++)
		if (!wgit_agent_account(&h->wgit, h->acc[i].client_proxy, &h->acc[i].d))
			h->stats[XWGP_AGENT_STAT_SESS_WRITES]++;
	h->n_acc = h->acc_hint = 0;
}

/* The session's entry (a new one when absent; the table flushed when full). */
static struct handler_acc *acc_entry(struct handler *h, uint32_t client_proxy)
{
	struct handler_acc *a;

	/* One flow usually fills a batch: the last entry used first. */
	if (h->acc_hint < h->n_acc && h->acc[h->acc_hint].client_proxy == client_proxy)
		return &h->acc[h->acc_hint];
	for (unsigned int i = 0; i < h->n_acc; i++) {
		if (h->acc[i].client_proxy == client_proxy) {
			h->acc_hint = i;
			return &h->acc[i];
		}
	}
	if (h->n_acc == HANDLER_ACC)
		handler_acc_flush(h);
	h->acc_hint = h->n_acc++;
	a = &h->acc[h->acc_hint];
	a->client_proxy = client_proxy;
	a->d = (struct wgit_agent_delta){ 0 };
	return a;
}

void handler_acc_add(struct handler *h, const struct xwgp_session *s, bool c2s, size_t len,
		     uint64_t now_ns)
{
	struct wgit_agent_delta *d = &acc_entry(h, s->client_proxy_index)->d;

	if (c2s) {
		d->c2s_packets++;
		d->c2s_bytes += len;
		d->client_seen_ns = now_ns;
	} else {
		d->s2c_packets++;
		d->s2c_bytes += len;
		d->server_seen_ns = now_ns;
	}
	d->last_seen_ns = now_ns;
}
