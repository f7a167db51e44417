/* notify.h — telling people about their keys by email: who is told about a key, and one
 * message to one person (the expiry notices use it; so can any other notice). */
#ifndef APIKEYD_NOTIFY_H
#define APIKEYD_NOTIFY_H

#include "core.h"

/* A person told about a key, with the address their mail goes to. */
struct notify_person {
    char username[STORE_NAME_MAX + 1];
    char full_name[STORE_KEY_NAME_BYTES + 1];
    char email[256];
};

/* Return 0 to go on, nonzero to stop. */
typedef int (*notify_person_cb)(void *ctx, const struct notify_person *p);

/* Calls cb for each person told about key k, once each: the owner of a person's key; for an
 * API account's key the issuing person (created_by) and the owners of the account's project
 * and of its parent projects. Disabled or deleted people and people without an email address
 * are left out (logged at info: username and key id only). */
enum err notify_key_people(struct core *c, const struct key_record *k, notify_person_cb cb,
                           void *ctx);

/* Sends one message (UTF-8 subject and body, "\n" line ends) to person `username` at their
 * email address. ERR_OK when the mail server accepted it; ERR_NOT_FOUND when there is no
 * such enabled person or they have no email address; ERR_UNAVAILABLE when mail is off
 * (no smtp_url) or the server could not take it (try again later); ERR_INVALID for a subject
 * or body the mailer refuses (a CR or LF in the subject). */
enum err notify_person(struct core *c, const char *username, const char *subject,
                       const char *body);

/* The same to an address already looked up (p from notify_key_people). */
enum err notify_send(struct core *c, const struct notify_person *p, const char *subject,
                     const char *body);

#endif
