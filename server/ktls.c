// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS record layer handed to the kernel (kTLS, Linux, TLS 1.3): a
 * GnuTLS session's keys, IVs and sequence numbers go to the kernel
 * (TCP_ULP "tls", TLS_TX and TLS_RX), which from then on encrypts what
 * is written to fd and decrypts what is read, so the request loop reads
 * and writes plaintext on the socket as without TLS.
 * Only with nothing decrypted left in GnuTLS (its records would be lost).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/tls.h>
#include <gnutls/gnutls.h>

#include "server.h"

union ktls_info {
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/* Where one cipher's fields are in the kernel's structure. */
struct ktls_fields {
	struct tls_crypto_info *info;
	unsigned char *salt, *iv, *key, *seq;
	size_t saltlen, ivlen, keylen, size;
	unsigned short type;
};

static bool ktls_fields(gnutls_cipher_algorithm_t c, union ktls_info *ki,
			struct ktls_fields *f)
{
	switch (c) {
	case GNUTLS_CIPHER_AES_128_GCM:
		*f = (struct ktls_fields){ &ki->aes128.info, ki->aes128.salt,
			ki->aes128.iv, ki->aes128.key, ki->aes128.rec_seq, 4, 8,
			16, sizeof(ki->aes128), TLS_CIPHER_AES_GCM_128 };
		return true;
	case GNUTLS_CIPHER_AES_256_GCM:
		*f = (struct ktls_fields){ &ki->aes256.info, ki->aes256.salt,
			ki->aes256.iv, ki->aes256.key, ki->aes256.rec_seq, 4, 8,
			32, sizeof(ki->aes256), TLS_CIPHER_AES_GCM_256 };
		return true;
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		*f = (struct ktls_fields){ &ki->chacha.info, NULL,
			ki->chacha.iv, ki->chacha.key, ki->chacha.rec_seq, 0, 12,
			32, sizeof(ki->chacha), TLS_CIPHER_CHACHA20_POLY1305 };
		return true;
	default:
		return false;
	}
}

/*
 * One direction's state as the kernel wants it; its size, or 0. TLS 1.3's
 * 12-byte IV is the kernel's salt (4, AES-GCM only) and iv.
 */
static size_t ktls_state(gnutls_session_t s, bool rx, union ktls_info *ki)
{
	gnutls_datum_t iv, key;
	unsigned char seq[8];
	struct ktls_fields f;

	memset(ki, 0, sizeof(*ki));
	if (!ktls_fields(gnutls_cipher_get(s), ki, &f) ||
	    gnutls_record_get_state(s, rx, NULL, &iv, &key, seq) < 0 ||
	    iv.size != f.saltlen + f.ivlen || key.size != f.keylen)
		return 0;
	f.info->version = TLS_1_3_VERSION;
	f.info->cipher_type = f.type;
	if (f.saltlen)
		memcpy(f.salt, iv.data, f.saltlen);
	memcpy(f.iv, iv.data + f.saltlen, f.ivlen);
	memcpy(f.key, key.data, f.keylen);
	memcpy(f.seq, seq, sizeof(seq));
	return f.size;
}

/*
 * 1: the kernel has the session (GnuTLS must not touch fd again); 0: it
 * cannot take it, nothing changed, why says why; -1: it took part of it,
 * the connection is unusable (why).
 */
int ktls_handover(struct gnutls_session_int *s, int fd, char *why,
		  size_t whylen)
{
	union ktls_info tx, rx;
	size_t txlen, rxlen;
	int r = 0;

	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3) {
		snprintf(why, whylen, "kTLS here only for TLS 1.3");
		return 0;
	}
	txlen = ktls_state(s, false, &tx);
	rxlen = ktls_state(s, true, &rx);
	if (!txlen || !rxlen || gnutls_record_check_pending(s)) {
		snprintf(why, whylen, "kTLS: %s",
			 txlen && rxlen ? "records pending" : "cipher not supported");
		r = 0;
	} else if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
		snprintf(why, whylen, "kTLS: TCP_ULP tls: %s", strerror(errno));
		r = 0;
	} else if (setsockopt(fd, SOL_TLS, TLS_TX, &tx, (socklen_t)txlen) < 0 ||
		   setsockopt(fd, SOL_TLS, TLS_RX, &rx, (socklen_t)rxlen) < 0) {
		snprintf(why, whylen, "kTLS: TLS_TX/TLS_RX: %s", strerror(errno));
		r = -1;
	} else {
		r = 1;
	}
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	return r;
}

/*
 * RFC 8446 6.1: close_notify at a clean end, so the client can tell it
 * from a cut connection. With the session in the kernel, a control
 * message (TLS_SET_RECORD_TYPE, alert = 21) makes this one write an
 * alert record: level warning (1), description close_notify (0). Never
 * waits: a client that stopped reading gets none. 0, or -1 with errno.
 */
int ktls_close_notify(int fd)
{
	unsigned char alert[2] = { 1, 0 };
	union {
		char buf[CMSG_SPACE(1)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = alert, .iov_len = sizeof(alert) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(ctl.buf, 0, sizeof(ctl.buf));
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = 21;
	return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	       (ssize_t)sizeof(alert) ? 0 : -1;
}
