// COpenSSL: the system's OpenSSL 3 (Debian libssl-dev), for SSL_GET. A system-library
// target: nothing is compiled at build time, the module map points at the installed headers
// and links libssl and libcrypto (found with pkg-config "openssl").
//
// Function-like macros do not import into Swift; the ones SSL_GET needs have prefixed twins.
#ifndef LVS_COPENSSL_SHIM_H
#define LVS_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>

/// SNI: the server name sent in the ClientHello (SSL_set_tlsext_host_name is a macro).
static inline long lvs_ssl_set_server_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

/// A client context as keepalived's checker makes it: any TLS version the library allows, no
/// verification of the server's certificate, and a peer that closes the TCP connection
/// without close_notify (most HTTP servers do) ends the stream instead of failing it.
static inline SSL_CTX *lvs_ssl_client_context(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}
#endif
