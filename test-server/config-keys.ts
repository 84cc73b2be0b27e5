/**
 * The YAML keys Velociraptor 0.77.2 accepts in server.config.yaml: every message of config/proto/config.proto at
 * tag v0.77.2, with its field names (= YAML keys) and, for a field holding another message, that message's name
 * (`key:Message`; `key:map` for a map). Velociraptor parses the file with yaml.UnmarshalStrict (config/loader.go 569),
 * so a key not listed here makes it refuse the config; the stand-in refuses it the same way. Field names only — the
 * interface, not the code.
 */
const MESSAGES: Record<string, string> = {
  Version: "name description version commit build_time install_time ci_build_url compiler system architecture",
  FlowCheckPoint: "flow_id path",
  Writeback: "install_time private_key client_id hunt_last_timestamp last_server_serial_number last_server_pem event_queries checkpoints:FlowCheckPoint",
  InitialOrgRecord: "org_id name nonce",
  WindowsInstallerConfig: "service_name install_path service_description",
  DarwinInstallerConfig: "service_name install_path",
  RingBufferConfig: "memory_size disk_size filename_linux filename_windows filename_darwin",
  ClientConfig: "labels server_urls proxy proxy_config:ProxyConfig ca_certificate nonce writeback_darwin writeback_linux writeback_windows level2_writeback_suffix tempdir_linux tempdir_windows tempdir_darwin min_poll max_poll max_poll_std ws_ping_wait_sec nanny_max_connection_delay windows_installer:WindowsInstallerConfig darwin_installer:DarwinInstallerConfig prevent_execve version:Version server_version:Version default_max_wait use_self_signed_ssl pinned_server_name max_upload_size local_buffer:RingBufferConfig max_memory_hard_limit concurrency connection_timeout Crypto:CryptoConfig disable_compression default_server_flow_stats_update client_info_update_time fallback_addresses:map dns_cache_refresh_min disable_checkpoints additional_event_artifacts logfile_name logfile_size panic_file insecure_network_trace_file low_resource_max_cpu low_resource_cpu_count Logging:LoggingConfig",
  APIConfig: "hostname bind_address bind_port bind_scheme pinned_gw_name",
  ApiClientConfig: "ca_certificate client_cert client_private_key api_connection_string name pinned_server_name max_grpc_recv_size",
  ProxyConfig: "https http proxy_url_regexp:map pac ignore_environment",
  GUILink: "text url icon_url type new_tab encode parameter method disabled",
  OIDCACL: "roles permissions",
  OIDCClaims: "username roles role_map:map allow_unverified_email override_acls",
  Authenticator: "type oidc_issuer oidc_name oidc_auth_url_params:map avatar oauth_client_id oauth_client_secret claims:OIDCClaims oidc_debug disable_email_to_sub_pin tenant saml_certificate saml_private_key saml_idp_metadata_url saml_root_url saml_user_attribute saml_user_roles saml_allow_idp_initiated sub_authenticators:Authenticator auth_redirect_template default_roles_for_unknown_user default_session_expiry_min",
  GUIConfig: "bind_address bind_port allowed_cidr forwarded_proxy_header use_plain_http base_path gw_certificate gw_private_key public_url reverse_proxy:ReverseProxyConfig links:GUILink initial_users:GUIUser initial_orgs:InitialOrgRecord authenticator:Authenticator artifact_search_filter trusted_origins",
  GUIUser: "name password_hash password_salt",
  CAConfig: "private_key",
  ReverseProxyConfig: "route url require_auth",
  DynDNSConfig: "type ddns_username ddns_password ddns_hostname update_url frequency checkip_url dns_server api_token zone_name",
  FrontendResourceControl: "connections_per_second notifications_per_second enrollments_per_second concurrency target_heap_size concurrency_timeout max_upload_size expected_clients per_client_upload_rate global_upload_rate client_event_max_wait minion_batch_wait_time_ms index_snapshot_frequency client_info_lru_ttl client_info_sync_time client_info_write_time max_journal_buffer_size default_log_batch_time default_monitoring_log_batch_time disable_file_buffering",
  FrontendConfig: "hostname bind_address bind_port base_path use_plain_http require_client_certificates proxy proxy_config:ProxyConfig certificate private_key tls_certificate_filename tls_private_key_filename dns_name do_not_compress_artifacts dyn_dns:DynDNSConfig proxy_header default_client_monitoring_artifacts default_server_monitoring_artifacts initial_server_artifacts run_as_user GRPC_pool_max_size GRPC_pool_max_wait resources:FrontendResourceControl is_minion concurrency max_upload_size expected_clients per_client_upload_rate global_upload_rate client_event_max_wait artifact_definitions_directory collection_error_regex do_not_redirect",
  DatastoreConfig: "implementation location filestore_directory compression min_allowed_file_space_mb disk_check_frequency_sec max_dir_size max_object_size memcache_expiration_sec memcache_write_mutation_buffer memcache_write_mutation_writers memcache_write_max_memory memcache_write_mutation_min_age memcache_write_mutation_max_age memcache_datastore_max_size memcache_datastore_max_item_size memcache_datastore_max_dir_size remote_datastore_rpc_deadline minion_implementation master_implementation",
  MinionConfig: "notebook_number_of_local_workers notebook_worker_priority",
  MailConfig: "from server server_port auth_username auth_password skip_verify",
  LoggingRetentionConfig: "rotation_time max_age disabled",
  LoggingConfig: "output_directory separate_logs_per_component rotation_time max_age debug:LoggingRetentionConfig info:LoggingRetentionConfig error:LoggingRetentionConfig remote_syslog_server remote_syslog_protocol remote_syslog_components",
  MonitoringConfig: "bind_address bind_port metrics_url",
  AutoExecConfig: "argv artifact_definitions",
  ServerServicesConfig: "hunt_manager hunt_dispatcher stats_collector server_monitoring server_artifacts dyn_dns interrogation sanity_checker vfs_service user_manager client_monitoring monitoring_service api_server frontend_server gui_server index_server journal_service replication_service notification_service repository_manager test_repository_manager inventory_service client_info label launcher notebook_service scheduler_service backup_service http_communicator client_event_table",
  Defaults: "hunt_expiry_hours hunt_dispatcher_refresh_sec hunt_dispatcher_refresh_rate notebook_default_new_cell_rows notebook_cell_timeout_min notebook_memory_low_water_mark notebook_memory_high_water_mark notebook_wait_time_for_worker_ms notebook_number_of_local_workers notebook_worker_priority notebook_versions csv_delimiter event_max_wait event_max_wait_jitter event_change_notify_all_clients max_vfs_directory_size artifact_definitions_directories max_in_memory_group_by acl_lru_timeout_sec unauthenticated_lru_timeout_sec max_sparse_expand_size disable_server_events auth_redirect_template disable_quarantine_button default_theme max_rows max_logs max_row_buffer_size max_batch_wait export_concurrency export_max_timeout_sec watch_plugin_frequency watch_plugin_buffer_size backup_period_seconds client_info_housekeeping_period disable_unicode_usernames reindex_period_seconds indexed_client_metadata disable_active_inflight_checks inflight_check_time write_internal_events allowed_plugins allowed_functions allowed_accessors denied_plugins denied_functions denied_accessors lockdown_denied_permissions certificate_validity_days disable_inventory_service_external_access",
  CryptoConfig: "root_certs certificate_thumbprints certificate_verification_mode allow_weak_tls_server client_certificate client_certificate_private_key",
  MountPoint: "accessor prefix path_type",
  RemappingConfig: "type description scope from:MountPoint on:MountPoint permissions os hostname env disabled_functions disabled_plugins",
  Security: "allowed_file_accessor_prefix denied_file_accessor_prefix allowed_fs_accessor_prefix denied_fs_accessor_prefix allowed_plugins allowed_functions allowed_accessors denied_plugins denied_functions denied_accessors lockdown_denied_permissions certificate_validity_days disable_inventory_service_external_access secrets_dek vql_must_use_secrets shadowed_env_vars allow_ancient_clients",
  Config: "version:Version Client:ClientConfig API:APIConfig GUI:GUIConfig CA:CAConfig Frontend:FrontendConfig ExtraFrontends:FrontendConfig Datastore:DatastoreConfig Writeback:Writeback Mail:MailConfig Logging:LoggingConfig Minion:MinionConfig verbose autocert_cert_cache Monitoring:MonitoringConfig api_config:ApiClientConfig autoexec:AutoExecConfig server_type obfuscation_nonce defaults:Defaults analysis_target remappings:RemappingConfig org_id org_name debug_mode services:ServerServicesConfig security:Security lockdown",
};

export type FieldKind = { message: string } | "map" | "scalar";

function parse(spec: string): Map<string, FieldKind> {
  return new Map(
    spec.split(" ").map((f) => {
      const [name, type] = f.split(":") as [string, string | undefined];
      return [name, type === "map" ? "map" : type ? { message: type } : "scalar"];
    }),
  );
}

const cache = new Map<string, Map<string, FieldKind>>();

/** The fields of a config.proto message, or undefined for a message not defined there (e.g. Artifact, VQLEnv). */
export function configMessageFields(message: string): Map<string, FieldKind> | undefined {
  const spec = MESSAGES[message];
  if (spec === undefined) return undefined;
  let fields = cache.get(message);
  if (!fields) cache.set(message, (fields = parse(spec)));
  return fields;
}
