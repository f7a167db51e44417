/* saml_xml.c — see saml_xml.h. */
#include "saml_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first node under n (n included) that is not an element, attribute or text: its kind,
 * or NULL. */
static const char *odd_node(xmlNode *n)
{
    for (; n; n = n->next) {
        switch (n->type) {
        case XML_ELEMENT_NODE:
        case XML_TEXT_NODE:
            break;
        case XML_COMMENT_NODE:
            return "a comment";
        case XML_CDATA_SECTION_NODE:
            return "a CDATA section";
        case XML_PI_NODE:
            return "a processing instruction";
        case XML_DTD_NODE:
            return "a DOCTYPE";
        case XML_ENTITY_REF_NODE:
        case XML_ENTITY_NODE:
        case XML_ENTITY_DECL:
            return "an entity";
        default:
            return "a node of an unexpected kind";
        }
        const char *inner = n->type == XML_ELEMENT_NODE ? odd_node(n->children) : NULL;
        if (inner)
            return inner;
    }
    return NULL;
}

int saml_xml_plain(const char *b64, char *why, size_t cap)
{
    size_t in = strlen(b64), len = 0;
    unsigned char *xml = malloc(in / 4 * 3 + 4);
    if (!xml) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if (sodium_base642bin(xml, in / 4 * 3 + 4, b64, in, " \t\r\n", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || len == 0) {
        free(xml);
        snprintf(why, cap, "the SAMLResponse is not base64");
        return -1;
    }
    /* no network, no entity substitution, no DTD loaded; libxml2's depth and size limits */
    xmlDoc *doc = xmlReadMemory((const char *)xml, (int)len, "saml-response.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    sodium_memzero(xml, len);
    free(xml);
    if (!doc) {
        snprintf(why, cap, "the SAMLResponse is not well-formed XML");
        return -1;
    }
    const char *odd = odd_node(doc->children);
    xmlFreeDoc(doc);
    if (odd) {
        snprintf(why, cap, "the Response holds %s (markup no identity provider sends, which "
                           "can change a signed value unseen)", odd);
        return -1;
    }
    return 0;
}
