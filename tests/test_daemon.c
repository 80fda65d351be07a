/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Check suite for src/daemon*.c without a daemon: chronyc's CSV as chrony
 * 4.3 prints it (lines taken from a real chronyd in a namespace), the
 * state rendered from a policy and its JSON round trip, the file written
 * atomically and refused when someone else wrote it, chrony.conf read with
 * its includes. */
#include "ntpwall/daemon.h"
#include "ntpwall/policy.h"
#include "ntpwall/util.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(chronyc_sources_parsed)
{
	static const char *const text =
		"^,*,198.51.100.4,1,-2,377,0,0.000001910,0.000003930,0.000007732\n"
		"^,?,198.51.100.5,0,0,0,4294967295,0.000000000,0.000000000,0.000000000\n"
		"^,x,198.51.100.20,1,-2,377,0,-5.000095367,-5.000095367,0.000170365\n"
		"^,?,198.51.100.2,1,-1,1,0,0.0,0.0,0.0\n"
		"^,+,198.51.100.6,1,0,0,26,0.0,0.0,0.0\n"
		"#,*,GPS,0,4,377,3,0.0,0.0,0.0\n"
		"=,+,2001:db8::7,2,6,17,30,0.0,0.0,0.0\n"
		"garbage\n^,*\n";
	struct daemon_source *v;
	size_t n;

	ck_assert_int_eq(daemon_chrony_parse_sources(text, &v, &n), 0);
	ck_assert_uint_eq(n, 6);	/* the refclock and the garbage are not sources */
	ck_assert(v[0].usable && v[0].heard && v[0].reach == 0377 && v[0].state == '*');
	ck_assert(!v[1].usable && !v[1].heard);		/* just added, never answered */
	ck_assert(!v[2].usable && v[2].heard);		/* falseticker */
	ck_assert(v[3].usable);				/* new, answering, not selected yet */
	ck_assert(!v[4].usable && v[4].heard);		/* dead, chrony not decided yet */
	ck_assert(v[5].usable && v[5].addr.family != 0);	/* a peer, IPv6 */
	free(v);
}
END_TEST

static struct policy *load(const char *yaml)
{
	struct policy *p = NULL;
	struct diags d;

	diag_init(&d, 0);
	ck_assert_int_eq(policy_load_buffer("t.yaml", yaml, strlen(yaml), &d, &p), 0);
	diag_free(&d);
	return p;
}

START_TEST(state_rendered_and_round_trips)
{
	struct policy *p = load("version: 1\nupstreams: [{server: 192.0.2.1}, {server: 192.0.2.2}]\n"
				"daemon: {chrony_sources: /x/ntpwall.sources, chronyc: \"chronyc -h /s\", "
				"chrony_options: \"minpoll 4\"}\n");
	struct resolved *r = resolve_literals(p);
	struct daemon_state ds, back;
	json_t *j;

	daemon_state_for(p, r, NULL, &ds);
	ck_assert_int_eq(ds.kind, DAEMON_CHRONY);
	ck_assert_str_eq(ds.command, "chronyc -h /s reload sources");
	ck_assert_str_eq(ds.client, "chronyc -h /s");
	ck_assert_str_eq(ds.conf, "/etc/chrony/chrony.conf");
	ck_assert_ptr_nonnull(strstr(ds.content, "\nserver 192.0.2.1 iburst minpoll 4\n"));
	ck_assert(!strncmp(ds.content, "# ntpwall: ", 11));
	j = daemon_state_json(&ds);
	ck_assert_int_eq(daemon_state_from_json(j, &back), 0);
	ck_assert_str_eq(back.content, ds.content);
	ck_assert_str_eq(back.command, ds.command);
	json_decref(j);
	daemon_state_free(&back);
	daemon_state_free(&ds);
	resolve_free(r);
	policy_free(p);
	p = load("version: 1\nupstreams: [{server: 192.0.2.1}, {server: \"2001:db8::1\"}]\n"
		 "daemon: {timesyncd_conf: /x/ntpwall.conf}\n");
	r = resolve_literals(p);
	daemon_state_for(p, r, NULL, &ds);
	ck_assert_int_eq(ds.kind, DAEMON_TIMESYNCD);
	ck_assert_str_eq(ds.command, "systemctl try-restart systemd-timesyncd");
	ck_assert_ptr_nonnull(strstr(ds.content, "[Time]\nNTP=192.0.2.1 2001:db8::1\nFallbackNTP=\n"));
	daemon_state_free(&ds);
	resolve_free(r);
	policy_free(p);
}
END_TEST

static char *tmpdir(void)
{
	char *d = xstrdup("/tmp/ntpwall-daemon.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(file_written_atomically_and_only_ours)
{
	char *d = tmpdir(), *path = xasprintf("%s/sub/ntpwall.sources", d);
	char *log = xasprintf("%s/ran", d), *cmd = xasprintf("touch %s", log);
	struct daemon_state s = { DAEMON_CHRONY, path, cmd, NULL, NULL,
				  (char *)"# ntpwall: x\nserver 192.0.2.1 iburst\n" };
	struct diags diags;
	struct stat sb;
	bool changed;
	char *rm;

	diag_init(&diags, 0);
	s.kind = DAEMON_NTPD;	/* no chronyc to ask after the command */
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), 0);
	ck_assert(changed);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0644);
	ck_assert_int_eq(access(log, F_OK), 0);		/* told */
	unlink(log);
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), 0);
	ck_assert(!changed);
	ck_assert_int_eq(access(log, F_OK), -1);	/* unchanged: not told again */
	ck_assert_int_eq(daemon_system.sync(&s, true, &changed, &diags), 0);
	ck_assert_int_eq(access(log, F_OK), 0);		/* forced: told again */
	put(path, "server 192.0.2.99 iburst\n");		/* the operator's own file */
	ck_assert_int_eq(daemon_system.check(&s, &diags), -EEXIST);
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), -EEXIST);
	s.content = NULL;
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), -EEXIST);
	ck_assert_int_eq(access(path, F_OK), 0);	/* neither replaced nor removed */
	free(s.command);
	s.command = xstrdup("false");
	unlink(path);
	s.content = (char *)"# ntpwall: y\n";
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), -ESRCH);
	ck_assert_int_eq(access(path, F_OK), 0);	/* written, not told */
	/* No command (ntpd without daemon.ntpd_restart): written, and a
	 * warning that the daemon was not told; none when nothing changed. */
	free(s.command);
	s.command = NULL;
	s.content = (char *)"# ntpwall: z\n";
	diag_free(&diags);
	diag_init(&diags, 0);
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), 0);
	ck_assert(changed);
	ck_assert_uint_eq(diags.warnings, 1);
	ck_assert_int_eq(diags.v[0].code, NW505_DAEMON);
	ck_assert_ptr_nonnull(strstr(diags.v[0].msg, "daemon.ntpd_restart"));
	ck_assert_int_eq(daemon_system.sync(&s, false, &changed, &diags), 0);
	ck_assert(!changed);
	ck_assert_uint_eq(diags.warnings, 1);
	rm = xasprintf("rm -rf '%s'", d);
	ck_assert_int_eq(system(rm), 0);
	free(rm);
	free(s.command);
	free(log);
	free(path);
	free(d);
	diag_free(&diags);
}
END_TEST

START_TEST(chrony_conf_followed)
{
	char *d = tmpdir(), *conf = xasprintf("%s/chrony.conf", d), *inc = xasprintf("%s/inc.conf", d);
	char *srcd = xasprintf("%s/sources.d", d), *own = xasprintf("%s/ntpwall.sources", srcd);
	char *other = xasprintf("%s/dhcp.sources", srcd), *text, *rm;
	struct daemon_conf_line *v;
	struct diags diags;
	size_t n;

	mkdir(srcd, 0755);
	text = xasprintf("# comment\npool 2.debian.pool.ntp.org iburst\n\ninclude %s\nsourcedir %s\n"
			 "server 192.0.2.1 iburst # trailing\n", inc, srcd);
	put(conf, text);
	put(inc, "peer 198.51.100.7\n");
	put(own, "# ntpwall: own\nserver 203.0.113.1 iburst\n");
	put(other, "server 198.51.100.77 iburst\n");
	diag_init(&diags, 0);
	ck_assert_int_eq(daemon_chrony_conf(conf, own, &v, &n, &diags), 0);
	ck_assert_uint_eq(n, 4);	/* ntpwall's own file left out */
	ck_assert_str_eq(v[0].host, "2.debian.pool.ntp.org");
	ck_assert_str_eq(v[0].kind, "pool");
	ck_assert_uint_eq(v[0].line, 2);
	ck_assert_str_eq(v[1].host, "198.51.100.7");
	ck_assert_str_eq(v[2].host, "198.51.100.77");
	ck_assert_str_eq(v[3].host, "192.0.2.1");
	ck_assert_uint_eq(v[3].line, 6);
	daemon_conf_lines_free(v, n);
	ck_assert_int_eq(daemon_chrony_conf("/nonexistent/chrony.conf", NULL, &v, &n, &diags), 0);
	ck_assert_uint_eq(n, 0);
	daemon_conf_lines_free(v, n);
	rm = xasprintf("rm -rf '%s'", d);
	ck_assert_int_eq(system(rm), 0);
	free(rm);
	free(text);
	free(other);
	free(own);
	free(srcd);
	free(inc);
	free(conf);
	free(d);
	diag_free(&diags);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, chronyc_sources_parsed);
	tcase_add_test(tc, state_rendered_and_round_trips);
	tcase_add_test(tc, file_written_atomically_and_only_ours);
	tcase_add_test(tc, chrony_conf_followed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
