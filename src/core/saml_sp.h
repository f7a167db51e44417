/* saml_sp.h — the SAML 2.0 service provider on lasso (the library behind mod_auth_mellon):
 * apikeyd's SP metadata, signed AuthnRequests sent by HTTP-Redirect, and the checks of an
 * HTTP-POST Response. lasso verifies the XML signatures against the IdP's key from its
 * metadata; the rest (one assertion, audience, recipient and destination, the time window,
 * bearer confirmation) is checked here explicitly. InResponseTo and replay need the store:
 * saml.c does them with what saml_sp_check returns. lasso objects are not thread-safe: one
 * mutex serialises every use of the server. */
#ifndef APIKEYD_SAML_SP_H
#define APIKEYD_SAML_SP_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "saml_config.h"

#define SAML_SKEW_SECONDS 120       /* clock skew allowed both ways */
#define SAML_RESPONSE_MAX (60 * 1024) /* bytes of a base64 SAMLResponse */
#define SAML_ID_MAX 256             /* bytes of a request or assertion ID */
#define SAML_ATTR_VALUES_MAX 200    /* attribute values kept from one assertion */
#define SAML_VALUE_MAX 4096         /* bytes of one attribute value (longer ones are dropped) */

struct saml_sp;

/* Reads the IdP metadata, the SP key and certificate, and builds the SP metadata (entity id
 * cfg->sp_entity_id, ACS public_url/v1/sso/saml/acs). ERR_INVALID (logged) when a file cannot
 * be read or lasso refuses it. */
enum err saml_sp_open(const struct saml_config *cfg, const char *public_url, struct saml_sp **out);

void saml_sp_free(struct saml_sp *sp);

/* The SP metadata document (XML), as long as sp lives. */
const char *saml_sp_metadata(const struct saml_sp *sp);

/* A signed AuthnRequest for the HTTP-Redirect binding carrying relay_state: the IdP URL into
 * *url (free) and the request's ID into id. ERR_INVALID when lasso fails (logged). */
enum err saml_sp_authn_request(struct saml_sp *sp, const char *relay_state, char **url,
                               char id[SAML_ID_MAX + 1]);

/* One attribute value of the assertion. */
struct saml_attr {
    char *name, *friendly_name, *value;
};

/* What a checked Response says. Free with saml_result_free. */
struct saml_result {
    char *issuer;           /* the IdP's entity id */
    char *name_id;          /* the Subject's NameID */
    char *name_id_format;   /* its Format, NULL when none */
    char *assertion_id;
    char *in_response_to;   /* NULL: IdP-initiated */
    int64_t expires_at;     /* the latest NotOnOrAfter of the assertion, seconds */
    struct saml_attr attrs[SAML_ATTR_VALUES_MAX];
    size_t attr_count;
};

enum saml_check {
    SAML_CHECK_OK = 0,
    SAML_CHECK_DENIED,    /* the IdP answered with a status that is not Success */
    SAML_CHECK_INVALID,   /* not a Response, a bad or missing signature, or a check failed */
};

/* Checks a base64 SAMLResponse at now: a signature by the IdP over the Response or the
 * assertion (lasso), exactly one assertion, issuer, Destination, bearer confirmation with
 * Recipient = the ACS URL, audience = the SP entity id, NotBefore / NotOnOrAfter with
 * SAML_SKEW_SECONDS, InResponseTo equal in Response and confirmation. The reason of a refusal
 * is logged. */
enum saml_check saml_sp_check(struct saml_sp *sp, const char *response, int64_t now,
                              struct saml_result *out);

void saml_result_free(struct saml_result *r);

/* The first value of attribute name (matched on Name or FriendlyName), or NULL. */
const char *saml_result_attr(const struct saml_result *r, const char *name);

#endif
