// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz the config parser (agent/config_*.c, json5.c, addr.c) from memory: the input,
 * as text, goes through config_detect_kind(), config_parse_server() and
 * config_parse_client(). Whatever parses is printed the way `xwgp
 * check-config' prints it, and the output must not contain any server's
 * private key (base64 or hex), then freed. ASan/UBSan catch the rest.
 *
 * Host names never reach the real resolver (it would make the fuzzer as
 * slow as DNS timeouts): this file's getaddrinfo() resolves names ending
 * in ".example" (".v6.example" to IPv6) and nothing else.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <sodium.h>

#include "config.h"
#include "fuzz.h"

#define MAX_TEXT (64 * 1024)

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Interposes libc's: addr.c's resolve_name() lands here. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	bool v6 = node && ends_with(node, ".v6.example");
	struct {
		struct addrinfo ai;
		union {
			struct sockaddr_in in;
			struct sockaddr_in6 in6;
		} sa;
	} * r;

	(void)service;
	(void)hints;
	if (!node || !ends_with(node, ".example"))
		return EAI_NONAME;
	r = calloc(1, sizeof(*r));
	if (!r)
		return EAI_MEMORY;
	r->ai.ai_socktype = SOCK_DGRAM;
	r->ai.ai_addr = (struct sockaddr *)&r->sa;
	if (v6) {
		r->ai.ai_family = AF_INET6;
		r->ai.ai_addrlen = sizeof(r->sa.in6);
		r->sa.in6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::99", &r->sa.in6.sin6_addr);
	} else {
		r->ai.ai_family = AF_INET;
		r->ai.ai_addrlen = sizeof(r->sa.in);
		r->sa.in.sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.99", &r->sa.in.sin_addr);
	}
	*res = &r->ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	free(res); /* the first member of the block getaddrinfo() allocated */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_agent_log();
	if (sodium_init() < 0)
		fuzz_bug("libsodium does not initialise");
	return 0;
}

static bool key_is_public_somewhere(const struct xwgp_server_config *c, const uint8_t key[32])
{
	for (size_t i = 0; i < c->n_servers; i++) {
		if (!memcmp(c->servers[i].pubkey, key, 32))
			return true;
		for (size_t j = 0; j < c->servers[i].n_peers; j++)
			if (c->servers[i].peers[j].has_pubkey &&
			    !memcmp(c->servers[i].peers[j].pubkey, key, 32))
				return true;
	}
	return false;
}

static void check_no_secret(const char *out, size_t len, const struct xwgp_server_config *c)
{
	char b64[45], hex[65];

	for (size_t i = 0; i < c->n_servers; i++) {
		const uint8_t *k = c->servers[i].privkey;

		/* A peer key the fuzzer set to the private key's value is printed as such. */
		if (key_is_public_somewhere(c, k))
			continue;
		sodium_bin2base64(b64, sizeof(b64), k, 32, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2hex(hex, sizeof(hex), k, 32);
		if (memmem(out, len, b64, 44) || memmem(out, len, hex, 64))
			fuzz_bug("servers[%zu]: the private key is printed", i);
	}
}

static void run_server(const char *text)
{
	struct xwgp_server_config c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (config_parse_server(text, "<fuzz>", &c))
		return;
	if (!c.n_servers || !c.servers || !c.instance || !c.pin_path)
		fuzz_bug("a parsed server config lacks servers, instance or pin_path");
	for (size_t i = 0; i < c.n_servers; i++) {
		const struct xwgp_server_cfg *s = &c.servers[i];

		if (!s->n_peers || (s->fallback >= 0 && (size_t)s->fallback >= s->n_peers))
			fuzz_bug("servers[%zu]: %zu peers, fallback %d", i, s->n_peers,
				 s->fallback);
		for (size_t j = 0; j < s->n_peers; j++)
			if (s->peers[j].forward_to.family != XWGP_FAMILY_IPV4 &&
			    s->peers[j].forward_to.family != XWGP_FAMILY_IPV6)
				fuzz_bug("servers[%zu].peers[%zu]: forward_to has no host", i, j);
	}
	f = open_memstream(&out, &len);
	if (!f)
		fuzz_bug("open_memstream failed");
	config_print_server(f, &c);
	fclose(f);
	check_no_secret(out, len, &c);
	free(out);
	config_free_server(&c);
}

static void run_client(const char *text)
{
	struct xwgp_client_config c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (config_parse_client(text, "<fuzz>", &c))
		return;
	f = open_memstream(&out, &len);
	if (!f)
		fuzz_bug("open_memstream failed");
	config_print_client(f, &c);
	fclose(f);
	free(out);
	config_free_client(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum xwgp_config_kind kind;
	char *text;

	if (size > MAX_TEXT)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_detect_kind(text, "<fuzz>", &kind);
	run_server(text);
	run_client(text);
	free(text);
	return 0;
}
