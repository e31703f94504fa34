/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants of the XDP data path. Protocol numbers that vmlinux.h does not
 * carry (it has types, not #defines), and tunables with #ifndef defaults so a
 * build or a test can override them with -D.
 */
#ifndef XWGP_BPF_CONSTS_H
#define XWGP_BPF_CONSTS_H

#ifndef ETH_ALEN
#define ETH_ALEN 6
#endif
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif
#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef VLAN_HLEN
#define VLAN_HLEN 4
#endif

/* bpf_fib_lookup() wants the kernel's AF_* values. */
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* IPv6 next-header values of the extension headers (IANA registry). */
#define NEXTHDR_HOP	 0
#define NEXTHDR_ROUTING	 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_ESP	 50
#define NEXTHDR_AUTH	 51
#define NEXTHDR_DEST	 60
#define NEXTHDR_MOBILITY 135
#define NEXTHDR_HIP	 139
#define NEXTHDR_SHIM6	 140
#define NEXTHDR_EXP1	 253
#define NEXTHDR_EXP2	 254

/* IPv4 frag_off field (host order after bpf_ntohs). */
#ifndef IP_MF
#define IP_MF 0x2000
#endif
#ifndef IP_DF
#define IP_DF 0x4000
#endif
#ifndef IP_OFFSET
#define IP_OFFSET 0x1fff
#endif
/* IPv6 flowinfo = traffic class + flow label, the first word minus the version. */
#ifndef IPV6_FLOWINFO_MASK
#define IPV6_FLOWINFO_MASK 0x0fffffff
#endif

/*
 * TTL / hop limit of forwarded packets: the proxy terminates one UDP flow
 * and originates another, exactly like the agent's sockets, so the packet
 * leaves with a fresh TTL instead of a decremented one.
 */
#ifndef XWGP_TTL
#define XWGP_TTL 64
#endif

#ifndef XWGP_NSEC_PER_SEC
#define XWGP_NSEC_PER_SEC 1000000000ULL
#endif

/* Session last_seen_ns is written only when it moved by more than this. */
#ifndef XWGP_LAST_SEEN_GRANULARITY_NS
#define XWGP_LAST_SEEN_GRANULARITY_NS XWGP_NSEC_PER_SEC
#endif

#endif /* XWGP_BPF_CONSTS_H */
