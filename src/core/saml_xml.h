/* saml_xml.h — the markup a SAML Response may hold, checked on libxml2's own tree before lasso
 * reads it. A comment or a CDATA section can be put into a signed Response without breaking
 * its signature (exclusive c14n drops comments and unwraps CDATA), and lasso reads only part
 * of such a value (a CDATA section is dropped: "admin<![CDATA[.evil]]>" would read "admin"),
 * so neither, nor a processing instruction, a DOCTYPE or an entity reference, is accepted:
 * no identity provider sends them. */
#ifndef APIKEYD_SAML_XML_H
#define APIKEYD_SAML_XML_H

#include <stddef.h>

/* Checks the base64 SAMLResponse b64 (at most SAML_RESPONSE_MAX bytes): 0 when it is
 * well-formed XML of elements, attributes and text only; -1 with the reason in why (cap
 * bytes) otherwise. Nothing is fetched, no entity is expanded. */
int saml_xml_plain(const char *b64, char *why, size_t cap);

#endif
