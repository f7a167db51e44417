/* saml_sp.c — see saml_sp.h. */
#include "saml_sp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_attribute.h>
#include <lasso/xml/saml-2.0/saml2_attribute_statement.h>
#include <lasso/xml/saml-2.0/saml2_attribute_value.h>
#include <lasso/xml/saml-2.0/saml2_audience_restriction.h>
#include <lasso/xml/saml-2.0/saml2_conditions.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation_data.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <libxml/entities.h>

#include "../base/log.h"
#include "saml_xml.h"

#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define PEM_MAX (64 * 1024)
#define METADATA_MAX (1024 * 1024)

struct saml_sp {
    pthread_mutex_t lock; /* every use of server */
    LassoServer *server;
    char *metadata;       /* the SP metadata */
    char *entity_id, *acs_url, *idp_id;
};

static pthread_once_t lasso_once = PTHREAD_ONCE_INIT;
static int lasso_ok;

static void lasso_start(void)
{
    lasso_ok = lasso_init() == 0;
}

/* Replaces a lasso string field with a copy of value. */
static void assign(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}

/* The whole file (at most max bytes) as a string, or NULL (logged). */
static char *read_file(const char *path, size_t max, const char *what)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(max + 1) : NULL;
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    if (f)
        fclose(f);
    if (!buf || n == 0 || n > max) {
        log_error("saml: cannot read %s %s (missing, empty or larger than %zu bytes)", what,
                  path, max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The base64 body of the first CERTIFICATE block of a PEM text, on one line; NULL if none. */
static char *cert_base64(const char *pem)
{
    const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if (!e)
        return NULL;
    b += strlen("-----BEGIN CERTIFICATE-----");
    char *out = malloc((size_t)(e - b) + 1), *o = out;
    if (!out)
        return NULL;
    for (; b < e; b++)
        if (*b != '\n' && *b != '\r' && *b != ' ' && *b != '\t')
            *o++ = *b;
    *o = '\0';
    return out;
}

/* The SP metadata: entity id, signing certificate, the HTTP-POST ACS. */
static char *build_metadata(const char *entity_id, const char *acs, const char *cert)
{
    xmlChar *eid = xmlEncodeSpecialChars(NULL, (const xmlChar *)entity_id);
    xmlChar *eacs = xmlEncodeSpecialChars(NULL, (const xmlChar *)acs);
    char *out = NULL;
    if (eid && eacs &&
        asprintf(&out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\""
                 " xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n"
                 "  <md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\""
                 " protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n"
                 "    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>"
                 "<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
                 "</md:KeyDescriptor>\n"
                 "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
                 "</md:NameIDFormat>\n"
                 "    <md:AssertionConsumerService"
                 " Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"%s\""
                 " index=\"0\" isDefault=\"true\"/>\n"
                 "  </md:SPSSODescriptor>\n"
                 "</md:EntityDescriptor>\n",
                 (const char *)eid, cert, (const char *)eacs) < 0)
        out = NULL;
    xmlFree(eid);
    xmlFree(eacs);
    return out;
}

/* The entity id of the (one) IdP lasso holds. */
static char *first_idp(LassoServer *server)
{
    GList *ids = g_hash_table_get_keys(server->providers);
    char *id = ids ? strdup(ids->data) : NULL;
    g_list_free(ids);
    return id;
}

enum err saml_sp_open(const struct saml_config *cfg, const char *public_url, struct saml_sp **out)
{
    *out = NULL;
    pthread_once(&lasso_once, lasso_start);
    if (!lasso_ok) {
        log_error("saml: lasso could not start");
        return ERR_INVALID;
    }
    struct saml_sp *sp = calloc(1, sizeof *sp);
    char *key = read_file(cfg->sp_key_file, PEM_MAX, "saml_sp_key_file");
    char *cert = read_file(cfg->sp_cert_file, PEM_MAX, "saml_sp_cert_file");
    char *idp = read_file(cfg->idp_metadata_file, METADATA_MAX, "saml_idp_metadata_file");
    char *cert64 = cert ? cert_base64(cert) : NULL;
    enum err e = ERR_INVALID;
    if (!sp || !key || !cert || !idp)
        goto done;
    if (!cert64) {
        log_error("saml: saml_sp_cert_file holds no PEM certificate");
        goto done;
    }
    pthread_mutex_init(&sp->lock, NULL);
    sp->entity_id = strdup(cfg->sp_entity_id);
    if (asprintf(&sp->acs_url, "%s/v1/sso/saml/acs", public_url) < 0)
        sp->acs_url = NULL;
    if (!sp->entity_id || !sp->acs_url ||
        !(sp->metadata = build_metadata(sp->entity_id, sp->acs_url, cert64)))
        goto done;
    /* no certificate for lasso: the redirect binding's signature carries none, and xmlsec1
     * 1.2.37 leaks a BIO each time it loads one to sign (the metadata publishes it) */
    sp->server = lasso_server_new_from_buffers(sp->metadata, key, NULL, NULL);
    if (!sp->server) {
        log_error("saml: lasso refused the SP key or certificate");
        goto done;
    }
    sp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    int rc = lasso_server_add_provider_from_buffer(sp->server, LASSO_PROVIDER_ROLE_IDP, idp,
                                                   NULL, NULL);
    if (rc != 0 || !(sp->idp_id = first_idp(sp->server))) {
        log_error("saml: lasso refused the IdP metadata %s: %s", cfg->idp_metadata_file,
                  lasso_strerror(rc));
        goto done;
    }
    log_info("saml: service provider %s, identity provider %s", sp->entity_id, sp->idp_id);
    e = ERR_OK;
done:
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(cert);
    free(cert64);
    free(idp);
    if (e)
        saml_sp_free(sp);
    else
        *out = sp;
    return e;
}

void saml_sp_free(struct saml_sp *sp)
{
    if (!sp)
        return;
    if (sp->server)
        g_object_unref(sp->server);
    if (sp->entity_id) /* the mutex is initialised before entity_id is set */
        pthread_mutex_destroy(&sp->lock);
    free(sp->metadata);
    free(sp->entity_id);
    free(sp->acs_url);
    free(sp->idp_id);
    free(sp);
}

const char *saml_sp_metadata(const struct saml_sp *sp)
{
    return sp->metadata;
}

enum err saml_sp_authn_request(struct saml_sp *sp, const char *relay_state, char **url,
                               char id[SAML_ID_MAX + 1])
{
    *url = NULL;
    id[0] = '\0';
    pthread_mutex_lock(&sp->lock);
    LassoLogin *login = lasso_login_new(sp->server);
    LassoProfile *p = LASSO_PROFILE(login);
    int rc = login ? lasso_login_init_authn_request(login, sp->idp_id, LASSO_HTTP_METHOD_REDIRECT)
                   : LASSO_ERROR_UNDEFINED;
    if (rc == 0) {
        LassoSamlp2AuthnRequest *req = LASSO_SAMLP2_AUTHN_REQUEST(p->request);
        req->ForceAuthn = FALSE;
        req->IsPassive = FALSE;
        assign(&req->ProtocolBinding, LASSO_SAML2_METADATA_BINDING_POST);
        assign(&req->AssertionConsumerServiceURL, sp->acs_url);
        if (req->NameIDPolicy) {
            assign(&req->NameIDPolicy->Format, LASSO_SAML2_NAME_IDENTIFIER_FORMAT_UNSPECIFIED);
            req->NameIDPolicy->AllowCreate = TRUE;
        }
        lasso_profile_set_signature_hint(p, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
        assign(&p->msg_relayState, relay_state);
        rc = lasso_login_build_authn_request_msg(login);
    }
    const char *rid = rc == 0 ? LASSO_SAMLP2_REQUEST_ABSTRACT(p->request)->ID : NULL;
    enum err e = ERR_INVALID;
    if (rc != 0)
        log_error("saml: could not build the AuthnRequest: %s", lasso_strerror(rc));
    else if (rid && strlen(rid) <= SAML_ID_MAX && p->msg_url && (*url = strdup(p->msg_url))) {
        snprintf(id, SAML_ID_MAX + 1, "%s", rid);
        e = ERR_OK;
    }
    if (login)
        g_object_unref(login);
    pthread_mutex_unlock(&sp->lock);
    return e;
}

/* xsd:dateTime in UTC ("2026-01-02T03:04:05Z", fractions allowed) into seconds; 0 if not. */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return 0;
    const char *rest = s + used;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    if (strcmp(rest, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 1;
}

static enum saml_check refuse(const char *why)
{
    log_warn("saml: response refused: %s", why);
    return SAML_CHECK_INVALID;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The whole text of an attribute value's children (any), or NULL when it holds anything but
 * text (an element). A comment splits the text into several nodes: the value is all of them,
 * as it was signed (exclusive c14n drops comments, so one can be put in after signing), never
 * the first alone, which would cut "admin<!---->.evil" to "admin". */
static char *value_text(GList *any)
{
    GString *s = g_string_new(NULL);
    for (GList *n = any; n; n = n->next) {
        if (!LASSO_IS_MISC_TEXT_NODE(n->data) || !LASSO_MISC_TEXT_NODE(n->data)->text_child ||
            s->len > SAML_VALUE_MAX) {
            g_string_free(s, TRUE);
            return NULL;
        }
        const char *t = LASSO_MISC_TEXT_NODE(n->data)->content;
        g_string_append(s, t ? t : "");
    }
    char *out = s->len > 0 && s->len <= SAML_VALUE_MAX ? strdup(s->str) : NULL;
    g_string_free(s, TRUE);
    return out;
}

/* The text values of the assertion's attributes into r. */
static void collect_attributes(LassoSaml2Assertion *a, struct saml_result *r)
{
    for (GList *s = a->AttributeStatement; s; s = s->next) {
        if (!LASSO_IS_SAML2_ATTRIBUTE_STATEMENT(s->data))
            continue;
        for (GList *at = LASSO_SAML2_ATTRIBUTE_STATEMENT(s->data)->Attribute; at; at = at->next) {
            if (!LASSO_IS_SAML2_ATTRIBUTE(at->data))
                continue;
            LassoSaml2Attribute *attr = LASSO_SAML2_ATTRIBUTE(at->data);
            for (GList *v = attr->AttributeValue; v; v = v->next) {
                if (!LASSO_IS_SAML2_ATTRIBUTE_VALUE(v->data))
                    continue;
                if (!attr->Name || r->attr_count == SAML_ATTR_VALUES_MAX)
                    continue;
                char *text = value_text(LASSO_SAML2_ATTRIBUTE_VALUE(v->data)->any);
                if (!text)
                    continue;
                struct saml_attr *out = &r->attrs[r->attr_count++];
                out->name = dup_or_null(attr->Name);
                out->friendly_name = dup_or_null(attr->FriendlyName);
                out->value = text;
            }
        }
    }
}

/* The checks lasso leaves to the SP, on the one assertion of a signature-checked response. */
static enum saml_check check_assertion(struct saml_sp *sp, LassoSamlp2StatusResponse *resp,
                                       LassoSaml2Assertion *a, int64_t now,
                                       struct saml_result *out)
{
    if (resp->Destination && strcmp(resp->Destination, sp->acs_url) != 0)
        return refuse("its Destination is not this ACS URL");
    if (!a->ID || strlen(a->ID) > SAML_ID_MAX)
        return refuse("the assertion has no usable ID");
    if (!a->Issuer || !a->Issuer->content || strcmp(a->Issuer->content, sp->idp_id) != 0)
        return refuse("the assertion's issuer is not the identity provider");
    LassoSaml2Subject *subj = a->Subject;
    if (!subj || !subj->NameID || !subj->NameID->content || !*subj->NameID->content)
        return refuse("the assertion has no NameID");
    LassoSaml2SubjectConfirmation *sc = subj->SubjectConfirmation;
    LassoSaml2SubjectConfirmationData *scd = sc ? sc->SubjectConfirmationData : NULL;
    if (!sc || !sc->Method || strcmp(sc->Method, BEARER) != 0 || !scd)
        return refuse("the assertion has no bearer subject confirmation");
    if (!scd->Recipient || strcmp(scd->Recipient, sp->acs_url) != 0)
        return refuse("its Recipient is not this ACS URL");
    int64_t t, expires = 0;
    if (!parse_time(scd->NotOnOrAfter, &expires) || expires + SAML_SKEW_SECONDS <= now)
        return refuse("the subject confirmation has expired (or has no NotOnOrAfter)");
    if (scd->NotBefore && (!parse_time(scd->NotBefore, &t) || t - SAML_SKEW_SECONDS > now))
        return refuse("the subject confirmation is not valid yet");
    LassoSaml2Conditions *cond = a->Conditions;
    if (!cond)
        return refuse("the assertion has no Conditions (audience, validity)");
    if (cond->NotBefore && (!parse_time(cond->NotBefore, &t) || t - SAML_SKEW_SECONDS > now))
        return refuse("the assertion is not valid yet (NotBefore)");
    if (cond->NotOnOrAfter) {
        if (!parse_time(cond->NotOnOrAfter, &t) || t + SAML_SKEW_SECONDS <= now)
            return refuse("the assertion has expired (NotOnOrAfter)");
        expires = t > expires ? t : expires;
    }
    /* every AudienceRestriction must name this SP (SAML core 2.5.1.4), and one is required */
    int restrictions = 0;
    for (GList *l = cond->AudienceRestriction; l; l = l->next, restrictions++) {
        LassoSaml2AudienceRestriction *ar = l->data;
        if (!LASSO_IS_SAML2_AUDIENCE_RESTRICTION(ar) || !ar->Audience ||
            strcmp(ar->Audience, sp->entity_id) != 0)
            return refuse("its audience is not this service provider");
    }
    if (!restrictions)
        return refuse("the assertion has no audience restriction");
    const char *irt = resp->InResponseTo;
    if ((irt || scd->InResponseTo) &&
        (!irt || !scd->InResponseTo || strcmp(irt, scd->InResponseTo) != 0))
        return refuse("the InResponseTo of the response and of the assertion differ");
    if (irt && strlen(irt) > SAML_ID_MAX)
        return refuse("its InResponseTo is too long");
    out->issuer = strdup(sp->idp_id);
    out->name_id = strdup(subj->NameID->content);
    out->name_id_format = dup_or_null(subj->NameID->Format);
    out->assertion_id = strdup(a->ID);
    out->in_response_to = dup_or_null(irt);
    out->expires_at = expires;
    collect_attributes(a, out);
    if (!out->issuer || !out->name_id || !out->assertion_id || (irt && !out->in_response_to))
        return refuse("out of memory");
    return SAML_CHECK_OK;
}

enum saml_check saml_sp_check(struct saml_sp *sp, const char *response, int64_t now,
                              struct saml_result *out)
{
    memset(out, 0, sizeof *out);
    if (!response || !*response || strlen(response) > SAML_RESPONSE_MAX)
        return refuse("no SAMLResponse, or one too large");
    char why[160];
    if (saml_xml_plain(response, why, sizeof why) != 0)
        return refuse(why);
    pthread_mutex_lock(&sp->lock);
    LassoLogin *login = lasso_login_new(sp->server);
    enum saml_check v = SAML_CHECK_INVALID;
    if (!login) {
        refuse("lasso could not start a login");
        goto done;
    }
    LassoProfile *p = LASSO_PROFILE(login);
    /* every signature is checked; a response without a valid one over it or its assertion
     * is refused */
    lasso_profile_set_signature_verify_hint(p, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
    int rc = lasso_login_process_authn_response_msg(login, (char *)response);
    if (rc == LASSO_LOGIN_ERROR_STATUS_NOT_SUCCESS || rc == LASSO_PROFILE_ERROR_STATUS_NOT_SUCCESS ||
        rc == LASSO_LOGIN_ERROR_REQUEST_DENIED) {
        log_info("saml: the identity provider answered with an error status");
        v = SAML_CHECK_DENIED;
        goto done;
    }
    if (rc != 0) {
        log_warn("saml: response refused by lasso: %s", lasso_strerror(rc));
        goto done;
    }
    rc = lasso_login_accept_sso(login);
    if (rc != 0) {
        log_warn("saml: response refused by lasso: %s", lasso_strerror(rc));
        goto done;
    }
    if (!LASSO_IS_SAMLP2_RESPONSE(p->response)) {
        refuse("not a SAML 2.0 Response");
        goto done;
    }
    LassoSamlp2Response *resp = LASSO_SAMLP2_RESPONSE(p->response);
    if (resp->EncryptedAssertion || !resp->Assertion || resp->Assertion->next ||
        !LASSO_IS_SAML2_ASSERTION(resp->Assertion->data)) {
        refuse("it must hold exactly one (unencrypted) assertion");
        goto done;
    }
    if (!p->remote_providerID || strcmp(p->remote_providerID, sp->idp_id) != 0) {
        refuse("it is not from the identity provider");
        goto done;
    }
    v = check_assertion(sp, LASSO_SAMLP2_STATUS_RESPONSE(resp), resp->Assertion->data, now, out);
done:
    if (login)
        g_object_unref(login);
    pthread_mutex_unlock(&sp->lock);
    if (v != SAML_CHECK_OK)
        saml_result_free(out);
    return v;
}

void saml_result_free(struct saml_result *r)
{
    free(r->issuer);
    free(r->name_id);
    free(r->name_id_format);
    free(r->assertion_id);
    free(r->in_response_to);
    for (size_t i = 0; i < r->attr_count; i++) {
        free(r->attrs[i].name);
        free(r->attrs[i].friendly_name);
        free(r->attrs[i].value);
    }
    memset(r, 0, sizeof *r);
}

const char *saml_result_attr(const struct saml_result *r, const char *name)
{
    for (size_t i = 0; i < r->attr_count; i++)
        if ((r->attrs[i].name && strcmp(r->attrs[i].name, name) == 0) ||
            (r->attrs[i].friendly_name && strcmp(r->attrs[i].friendly_name, name) == 0))
            return r->attrs[i].value;
    return NULL;
}
