// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "log.h"
#include "xsk_rx.h"

#define XSK_FRAMES 4096
#define XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE

int xsk_rx_queue_count(const char *ifname)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n ? n : 1;
}

int xsk_rx_open(struct xsk_rx *x, const char *ifname, unsigned int queue, int xsks_map_fd,
		uint32_t map_key)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = 0,
		/* our program is loaded already: libxdp must not load its own */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_FRAMES,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = XSK_FRAME_SIZE,
	};
	size_t size = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	uint32_t idx;
	int err;

	memset(x, 0, sizeof(*x));
	x->queue = queue;
	x->map_key = map_key;
	x->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->area, size, &x->fq, &x->cq, &ucfg);
	if (err)
		goto err_unmap;
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, NULL, &cfg);
	if (err)
		goto err_umem;
	/* Hand every frame to the kernel for receiving. */
	if (xsk_ring_prod__reserve(&x->fq, XSK_FRAMES, &idx) != XSK_FRAMES) {
		err = -ENOMEM;
		goto err_sock;
	}
	for (uint32_t i = 0; i < XSK_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fq, XSK_FRAMES);

	err = bpf_map_update_elem(xsks_map_fd, &map_key, &(int){ xsk_socket__fd(x->xsk) }, 0);
	if (err) {
		err = -errno;
		goto err_sock;
	}
	return 0;

err_sock:
	xsk_socket__delete(x->xsk);
err_umem:
	xsk_umem__delete(x->umem);
err_unmap:
	munmap(x->area, size);
	memset(x, 0, sizeof(*x));
	return err;
}

int xsk_rx_fd(const struct xsk_rx *x)
{
	return xsk_socket__fd(x->xsk);
}

void xsk_rx_deliver(uint8_t *const *frames, const uint32_t *lens, uint32_t n, xsk_frame_fn cb,
		    void *ctx)
{
	uint64_t waiting = 0; /* one bit per frame of the batch */

	_Static_assert(XSK_RX_BATCH <= 64, "one bit per frame in a u64");
	for (uint32_t i = 0; i < n && i < XSK_RX_BATCH; i++)
		if (cb(ctx, frames[i], lens[i], false))
			waiting |= 1ull << i;
	for (uint32_t i = 0; waiting && i < n && i < XSK_RX_BATCH; i++)
		if (waiting & (1ull << i))
			cb(ctx, frames[i], lens[i], true);
}

int xsk_rx_poll(struct xsk_rx *x, xsk_frame_fn cb, void *ctx)
{
	uint8_t *frames[XSK_RX_BATCH];
	uint32_t lens[XSK_RX_BATCH];
	uint32_t idx_rx, idx_fq, n;

	n = xsk_ring_cons__peek(&x->rx, XSK_RX_BATCH, &idx_rx);
	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx_rx + i);

		frames[i] = xsk_umem__get_data(x->area, d->addr);
		lens[i] = d->len;
	}
	xsk_rx_deliver(frames, lens, n, cb, ctx);
	/* Give the frames back: the fill ring always has room for them. */
	if (xsk_ring_prod__reserve(&x->fq, n, &idx_fq) == n) {
		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx_rx + i);

			*xsk_ring_prod__fill_addr(&x->fq, idx_fq + i) =
				xsk_umem__extract_addr(d->addr) & ~((uint64_t)XSK_FRAME_SIZE - 1);
		}
		xsk_ring_prod__submit(&x->fq, n);
	}
	xsk_ring_cons__release(&x->rx, n);
	return (int)n;
}

void xsk_rx_close(struct xsk_rx *x, int xsks_map_fd)
{
	if (!x->xsk)
		return;
	if (xsks_map_fd >= 0)
		bpf_map_delete_elem(xsks_map_fd, &x->map_key);
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
	memset(x, 0, sizeof(*x));
}
