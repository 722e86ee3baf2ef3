#include "control/control_plane.h"

#include <fmt/format.h>

#include <unordered_map>

#include "common/logging.h"
#include "control/endpoint_status.h"
#include "control/list_query.h"
#include "control/request_shapes.h"
#include "control/validation.h"

namespace thaw::control {

using nlohmann::json;
using store::ResourceKind;

namespace {

constexpr const char* kModel = "model";
constexpr const char* kConfig = "endpoint-config";
constexpr const char* kEndpoint = "endpoint";

json Parse(const std::string& text) {
  return text.empty() ? json() : json::parse(text, nullptr, /*allow_exceptions=*/false);
}

json WithoutTags(json doc) {
  doc.erase("Tags");
  return doc;
}

json ServerlessSummary(const json& sc) {
  json out = {{"MemorySizeInMB", sc.at("MemorySizeInMB")},
              {"MaxConcurrency", sc.at("MaxConcurrency")}};
  if (sc.contains("ProvisionedConcurrency")) {
    out["ProvisionedConcurrency"] = sc["ProvisionedConcurrency"];
  }
  return out;
}

// Reads one required name member; the Validator explains what is wrong.
Result<std::string> RequiredName(const json& body, const char* member, const StringRule& rule) {
  Validator v;
  Field f(body, v);
  auto name = f.String(member, true, rule);
  THAW_RETURN_IF_ERROR(v.status());
  return *name;
}

}  // namespace

ControlPlane::ControlPlane(store::Store& store, const Clock& clock, Deployer& deployer,
                           Serving& serving, JobRunner& jobs, ControlOptions options)
    : store_(store),
      clock_(clock),
      deployer_(deployer),
      serving_(serving),
      jobs_(jobs),
      options_(std::move(options)) {}

std::string ControlPlane::Arn(std::string_view kind, std::string_view name) const {
  return SageMakerArn(options_.identity, kind, name);
}

Result<json> ControlPlane::Handle(std::string_view op, const json& body) {
  using Method = Result<json> (ControlPlane::*)(const json&);
  static const std::unordered_map<std::string_view, Method> kOps = {
      {"CreateModel", &ControlPlane::CreateModel},
      {"DescribeModel", &ControlPlane::DescribeModel},
      {"ListModels", &ControlPlane::ListModels},
      {"DeleteModel", &ControlPlane::DeleteModel},
      {"CreateEndpointConfig", &ControlPlane::CreateEndpointConfig},
      {"DescribeEndpointConfig", &ControlPlane::DescribeEndpointConfig},
      {"ListEndpointConfigs", &ControlPlane::ListEndpointConfigs},
      {"DeleteEndpointConfig", &ControlPlane::DeleteEndpointConfig},
      {"CreateEndpoint", &ControlPlane::CreateEndpoint},
      {"DescribeEndpoint", &ControlPlane::DescribeEndpoint},
      {"ListEndpoints", &ControlPlane::ListEndpoints},
      {"UpdateEndpoint", &ControlPlane::UpdateEndpoint},
      {"DeleteEndpoint", &ControlPlane::DeleteEndpoint},
  };
  auto it = kOps.find(op);
  if (it == kOps.end()) {
    return Status(Code::kUnknownOperation,
                  fmt::format("Operation {} is not supported by this server.", op));
  }
  std::lock_guard lock(mu_);
  return (this->*(it->second))(body);
}

// ---------------------------------------------------------------------------------------------
// Models

Result<json> ControlPlane::CreateModel(const json& body) {
  THAW_ASSIGN_OR_RETURN(json doc, CheckCreateModel(body));
  std::string name = doc["ModelName"];
  Status st = store_.InsertResource(ResourceKind::kModel, {name, clock_.Now(), doc.dump()});
  if (st.code() == Code::kAlreadyExists) {
    return AlreadyExists("Cannot create already existing model \"" + Arn(kModel, name) + "\".");
  }
  THAW_RETURN_IF_ERROR(st);
  return json{{"ModelArn", Arn(kModel, name)}};
}

Result<json> ControlPlane::DescribeModel(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name, RequiredName(body, "ModelName", Patterns::ModelName()));
  THAW_ASSIGN_OR_RETURN(auto rec, store_.GetResource(ResourceKind::kModel, name));
  if (!rec) return NotFound("Could not find model \"" + Arn(kModel, name) + "\".");
  json out = WithoutTags(Parse(rec->doc));
  out["ModelArn"] = Arn(kModel, rec->name);
  out["CreationTime"] = ToEpochSeconds(rec->creation_time);
  return out;
}

Result<json> ControlPlane::ListModels(const json& body) {
  Validator v;
  Field f(body, v);
  ListParams params = ReadListParams(f, {"Name", "CreationTime"}, false);
  THAW_RETURN_IF_ERROR(v.status());
  THAW_ASSIGN_OR_RETURN(auto records, store_.ListResources(ResourceKind::kModel));
  std::vector<ListItem> items;
  for (const auto& r : records) {
    items.push_back({r.name, r.creation_time, r.creation_time, "",
                     json{{"ModelName", r.name},
                          {"ModelArn", Arn(kModel, r.name)},
                          {"CreationTime", ToEpochSeconds(r.creation_time)}}});
  }
  THAW_ASSIGN_OR_RETURN(ListPage page, Paginate(std::move(items), params));
  json out = {{"Models", page.items}};
  if (page.next_token) out["NextToken"] = *page.next_token;
  return out;
}

Result<json> ControlPlane::DeleteModel(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name, RequiredName(body, "ModelName", Patterns::ModelName()));
  THAW_ASSIGN_OR_RETURN(bool deleted, store_.DeleteResource(ResourceKind::kModel, name));
  if (!deleted) return NotFound("Could not find model \"" + Arn(kModel, name) + "\".");
  return json::object();
}

// ---------------------------------------------------------------------------------------------
// Endpoint configs

Result<json> ControlPlane::CreateEndpointConfig(const json& body) {
  THAW_ASSIGN_OR_RETURN(json doc, CheckCreateEndpointConfig(body));
  std::string name = doc["EndpointConfigName"];
  for (const json& pv : doc["ProductionVariants"]) {
    std::string model_name = pv["ModelName"];
    THAW_ASSIGN_OR_RETURN(auto model, store_.GetResource(ResourceKind::kModel, model_name));
    if (!model) return NotFound("Could not find model \"" + Arn(kModel, model_name) + "\".");
  }
  THAW_ASSIGN_OR_RETURN(auto existing, store_.GetResource(ResourceKind::kEndpointConfig, name));
  if (existing) {
    return AlreadyExists("Cannot create already existing endpoint configuration \"" +
                         Arn(kConfig, name) + "\".");
  }
  THAW_RETURN_IF_ERROR(
      store_.InsertResource(ResourceKind::kEndpointConfig, {name, clock_.Now(), doc.dump()}));
  return json{{"EndpointConfigArn", Arn(kConfig, name)}};
}

Result<json> ControlPlane::DescribeEndpointConfig(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name,
                        RequiredName(body, "EndpointConfigName", Patterns::ResourceName()));
  THAW_ASSIGN_OR_RETURN(auto rec, store_.GetResource(ResourceKind::kEndpointConfig, name));
  if (!rec) {
    return NotFound("Could not find endpoint configuration \"" + Arn(kConfig, name) + "\".");
  }
  json out = WithoutTags(Parse(rec->doc));
  out["EndpointConfigArn"] = Arn(kConfig, rec->name);
  out["CreationTime"] = ToEpochSeconds(rec->creation_time);
  return out;
}

Result<json> ControlPlane::ListEndpointConfigs(const json& body) {
  Validator v;
  Field f(body, v);
  ListParams params = ReadListParams(f, {"Name", "CreationTime"}, false);
  THAW_RETURN_IF_ERROR(v.status());
  THAW_ASSIGN_OR_RETURN(auto records, store_.ListResources(ResourceKind::kEndpointConfig));
  std::vector<ListItem> items;
  for (const auto& r : records) {
    items.push_back({r.name, r.creation_time, r.creation_time, "",
                     json{{"EndpointConfigName", r.name},
                          {"EndpointConfigArn", Arn(kConfig, r.name)},
                          {"CreationTime", ToEpochSeconds(r.creation_time)}}});
  }
  THAW_ASSIGN_OR_RETURN(ListPage page, Paginate(std::move(items), params));
  json out = {{"EndpointConfigs", page.items}};
  if (page.next_token) out["NextToken"] = *page.next_token;
  return out;
}

Result<json> ControlPlane::DeleteEndpointConfig(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name,
                        RequiredName(body, "EndpointConfigName", Patterns::ResourceName()));
  THAW_ASSIGN_OR_RETURN(bool deleted, store_.DeleteResource(ResourceKind::kEndpointConfig, name));
  if (!deleted) {
    return NotFound("Could not find endpoint configuration \"" + Arn(kConfig, name) + "\".");
  }
  return json::object();
}

// ---------------------------------------------------------------------------------------------
// Endpoints

Result<json> ControlPlane::Snapshot(const std::string& config_name, WallTime now) {
  THAW_ASSIGN_OR_RETURN(auto config,
                        store_.GetResource(ResourceKind::kEndpointConfig, config_name));
  if (!config) {
    return NotFound("Could not find endpoint configuration \"" + Arn(kConfig, config_name) + "\".");
  }
  json config_doc = Parse(config->doc);
  json models = json::object();
  for (const json& pv : config_doc["ProductionVariants"]) {
    std::string model_name = pv["ModelName"];
    THAW_ASSIGN_OR_RETURN(auto model, store_.GetResource(ResourceKind::kModel, model_name));
    if (!model) return NotFound("Could not find model \"" + Arn(kModel, model_name) + "\".");
    models[model_name] = Parse(model->doc);
  }
  return json{{"EndpointConfigName", config->name},
              {"EndpointConfig", std::move(config_doc)},
              {"Models", std::move(models)},
              {"StartTime", ToEpochSeconds(now)}};
}

Status ControlPlane::CheckLimits(const json& snapshot, const std::string& replacing_endpoint) {
  THAW_ASSIGN_OR_RETURN(auto endpoints, store_.ListEndpoints());
  auto concurrency_of = [](const json& snap) -> int64_t {
    int64_t sum = 0;
    if (!snap.is_object()) return 0;
    for (const json& pv : snap["EndpointConfig"]["ProductionVariants"]) {
      if (pv.contains("ServerlessConfig"))
        sum += pv["ServerlessConfig"]["MaxConcurrency"].get<int64_t>();
    }
    return sum;
  };
  int64_t used = 0;
  for (const auto& e : endpoints) {
    if (ToLower(e.name) == ToLower(replacing_endpoint)) continue;
    // An endpoint mid-update may switch to either config: count the larger.
    used += std::max(concurrency_of(Parse(e.current_doc)), concurrency_of(Parse(e.pending_doc)));
  }
  int64_t delta = concurrency_of(snapshot);
  if (used + delta > options_.max_total_concurrency) {
    return Status(Code::kResourceLimit,
                  fmt::format("The account-level service limit 'Total concurrency that can be "
                              "allocated across all serverless endpoints' is {} Concurrency, with "
                              "current utilization of {} Concurrency and a request delta of {} "
                              "Concurrency. Please use AWS Service Quotas to request an increase "
                              "for this quota.",
                              options_.max_total_concurrency, used, delta));
  }
  if (replacing_endpoint.empty() && endpoints.size() + 1 > options_.max_endpoints) {
    return Status(Code::kResourceLimit,
                  fmt::format("The account-level service limit 'Number of endpoints' is {} "
                              "Endpoints, with current utilization of {} Endpoints and a request "
                              "delta of 1 Endpoints. Please use AWS Service Quotas to request an "
                              "increase for this quota.",
                              options_.max_endpoints, endpoints.size()));
  }
  return Status::Ok();
}

Result<json> ControlPlane::CreateEndpoint(const json& body) {
  Validator v;
  Field f(body, v);
  auto name = f.String("EndpointName", true, Patterns::ResourceName());
  auto config_name = f.String("EndpointConfigName", true, Patterns::ResourceName());
  f.Object("DeploymentConfig", false);  // instance-oriented; accepted and ignored for serverless
  CheckTags(f);
  THAW_RETURN_IF_ERROR(v.status());

  THAW_ASSIGN_OR_RETURN(auto existing, store_.GetEndpoint(*name));
  if (existing) {
    return AlreadyExists("Cannot create already existing endpoint \"" + Arn(kEndpoint, *name) +
                         "\".");
  }
  WallTime now = clock_.Now();
  THAW_ASSIGN_OR_RETURN(json snapshot, Snapshot(*config_name, now));
  THAW_RETURN_IF_ERROR(CheckLimits(snapshot, ""));
  store::EndpointRecord rec;
  rec.name = *name;
  rec.config_name = snapshot["EndpointConfigName"];
  rec.status = std::string(StatusName(EndpointStatus::kCreating));
  rec.creation_time = rec.last_modified_time = now;
  rec.pending_doc = snapshot.dump();
  rec.tags = body.value("Tags", json::array()).dump();
  rec.generation = 1;
  THAW_RETURN_IF_ERROR(store_.InsertEndpoint(rec));
  Schedule(rec.name, rec.generation);
  return json{{"EndpointArn", Arn(kEndpoint, *name)}};
}

Result<json> ControlPlane::DescribeEndpoint(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name,
                        RequiredName(body, "EndpointName", Patterns::ResourceName()));
  THAW_ASSIGN_OR_RETURN(auto rec, store_.GetEndpoint(name));
  if (!rec) return NotFound("Could not find endpoint \"" + Arn(kEndpoint, name) + "\".");

  json out = {{"EndpointName", rec->name},
              {"EndpointArn", Arn(kEndpoint, rec->name)},
              {"EndpointConfigName", rec->config_name},
              {"EndpointStatus", rec->status},
              {"CreationTime", ToEpochSeconds(rec->creation_time)},
              {"LastModifiedTime", ToEpochSeconds(rec->last_modified_time)}};
  if (!rec->failure_reason.empty()) out["FailureReason"] = rec->failure_reason;

  json current = Parse(rec->current_doc);
  if (current.is_object()) {
    json variants = json::array();
    const json& deployed = current["Deployed"];
    for (const json& pv : current["EndpointConfig"]["ProductionVariants"]) {
      json s = {{"VariantName", pv["VariantName"]},
                {"CurrentWeight", pv["InitialVariantWeight"]},
                {"DesiredWeight", pv["InitialVariantWeight"]}};
      for (const json& d : deployed) {
        if (d["VariantName"] == pv["VariantName"]) {
          s["DeployedImages"] = json::array({{{"SpecifiedImage", d["SpecifiedImage"]},
                                              {"ResolvedImage", d["ResolvedImage"]},
                                              {"ResolutionTime", d["ResolutionTime"]}}});
        }
      }
      if (pv.contains("ServerlessConfig")) {
        s["CurrentServerlessConfig"] = ServerlessSummary(pv["ServerlessConfig"]);
        s["DesiredServerlessConfig"] = ServerlessSummary(pv["ServerlessConfig"]);
      } else {
        s["CurrentInstanceCount"] = pv["InitialInstanceCount"];
        s["DesiredInstanceCount"] = pv["InitialInstanceCount"];
      }
      variants.push_back(std::move(s));
    }
    out["ProductionVariants"] = std::move(variants);
  }

  json pending = Parse(rec->pending_doc);
  if (rec->status == StatusName(EndpointStatus::kUpdating) && pending.is_object()) {
    json variants = json::array();
    for (const json& pv : pending["EndpointConfig"]["ProductionVariants"]) {
      json s = {{"VariantName", pv["VariantName"]},
                {"DesiredWeight", pv["InitialVariantWeight"]},
                {"VariantStatus", json::array({{{"Status", "Creating"},
                                                {"StatusMessage", "Deploying the new variant"},
                                                {"StartTime", pending["StartTime"]}}})}};
      if (pv.contains("ServerlessConfig")) {
        s["DesiredServerlessConfig"] = ServerlessSummary(pv["ServerlessConfig"]);
      } else {
        s["DesiredInstanceCount"] = pv["InitialInstanceCount"];
        s["InstanceType"] = pv["InstanceType"];
      }
      variants.push_back(std::move(s));
    }
    out["PendingDeploymentSummary"] = {{"EndpointConfigName", pending["EndpointConfigName"]},
                                       {"ProductionVariants", std::move(variants)},
                                       {"StartTime", pending["StartTime"]}};
  }
  return out;
}

Result<json> ControlPlane::ListEndpoints(const json& body) {
  Validator v;
  Field f(body, v);
  ListParams params = ReadListParams(f, {"Name", "CreationTime", "Status"}, true);
  THAW_RETURN_IF_ERROR(v.status());
  THAW_ASSIGN_OR_RETURN(auto records, store_.ListEndpoints());
  std::vector<ListItem> items;
  for (const auto& r : records) {
    items.push_back({r.name, r.creation_time, r.last_modified_time, r.status,
                     json{{"EndpointName", r.name},
                          {"EndpointArn", Arn(kEndpoint, r.name)},
                          {"CreationTime", ToEpochSeconds(r.creation_time)},
                          {"LastModifiedTime", ToEpochSeconds(r.last_modified_time)},
                          {"EndpointStatus", r.status}}});
  }
  THAW_ASSIGN_OR_RETURN(ListPage page, Paginate(std::move(items), params));
  json out = {{"Endpoints", page.items}};
  if (page.next_token) out["NextToken"] = *page.next_token;
  return out;
}

Result<json> ControlPlane::UpdateEndpoint(const json& body) {
  Validator v;
  Field f(body, v);
  auto name = f.String("EndpointName", true, Patterns::ResourceName());
  auto config_name = f.String("EndpointConfigName", true, Patterns::ResourceName());
  f.Bool("RetainAllVariantProperties");
  f.Bool("RetainDeploymentConfig");
  f.List("ExcludeRetainedVariantProperties", false, 0, 3);
  f.Object("DeploymentConfig", false);
  THAW_RETURN_IF_ERROR(v.status());

  THAW_ASSIGN_OR_RETURN(auto rec, store_.GetEndpoint(*name));
  if (!rec) return NotFound("Could not find endpoint \"" + Arn(kEndpoint, *name) + "\".");
  std::string arn = Arn(kEndpoint, rec->name);
  auto from = ParseStatus(rec->status).value_or(EndpointStatus::kFailed);
  THAW_ASSIGN_OR_RETURN(EndpointStatus to, Transition(from, EndpointEvent::kUpdate, arn));

  WallTime now = clock_.Now();
  THAW_ASSIGN_OR_RETURN(json snapshot, Snapshot(*config_name, now));
  // Instance → serverless in place is allowed (the seed's migration), though AWS refuses it.
  THAW_RETURN_IF_ERROR(CheckLimits(snapshot, rec->name));
  int64_t expected = rec->generation;
  rec->status = std::string(StatusName(to));
  rec->failure_reason.clear();
  rec->last_modified_time = now;
  rec->pending_doc = snapshot.dump();
  rec->generation = expected + 1;
  THAW_RETURN_IF_ERROR(store_.UpdateEndpoint(*rec, expected));
  Schedule(rec->name, rec->generation);
  return json{{"EndpointArn", arn}};
}

Result<json> ControlPlane::DeleteEndpoint(const json& body) {
  THAW_ASSIGN_OR_RETURN(std::string name,
                        RequiredName(body, "EndpointName", Patterns::ResourceName()));
  THAW_ASSIGN_OR_RETURN(auto rec, store_.GetEndpoint(name));
  if (!rec) return NotFound("Could not find endpoint \"" + Arn(kEndpoint, name) + "\".");
  auto from = ParseStatus(rec->status).value_or(EndpointStatus::kFailed);
  THAW_ASSIGN_OR_RETURN(EndpointStatus to,
                        Transition(from, EndpointEvent::kDelete, Arn(kEndpoint, rec->name)));
  int64_t expected = rec->generation;
  rec->status = std::string(StatusName(to));
  rec->last_modified_time = clock_.Now();
  rec->generation = expected + 1;
  THAW_RETURN_IF_ERROR(store_.UpdateEndpoint(*rec, expected));
  Schedule(rec->name, rec->generation);
  return json::object();
}

// ---------------------------------------------------------------------------------------------
// Deploy jobs

void ControlPlane::Schedule(const std::string& endpoint, int64_t generation) {
  jobs_.Post([this, endpoint, generation] { RunJob(endpoint, generation); });
}

void ControlPlane::RunJob(const std::string& endpoint, int64_t generation) {
  auto log = Logger("control");
  std::optional<store::EndpointRecord> rec;
  {
    std::lock_guard lock(mu_);
    auto got = store_.GetEndpoint(endpoint);
    if (!got.ok()) {
      log->error("deploy job endpoint={} cannot read: {}", endpoint, got.status().ToString());
      return;
    }
    rec = std::move(*got);
  }
  if (!rec || rec->generation != generation) return;  // superseded or gone
  std::string arn = Arn(kEndpoint, rec->name);
  auto status = ParseStatus(rec->status).value_or(EndpointStatus::kFailed);

  if (status == EndpointStatus::kDeleting) {
    serving_.Remove(rec->name);  // in-flight requests finish; the workers then exit
    std::lock_guard lock(mu_);
    auto deleted = store_.DeleteEndpoint(rec->name, generation);
    if (!deleted.ok())
      log->error("delete endpoint={}: {}", endpoint, deleted.status().ToString());
    else
      log->info("endpoint={} deleted", rec->name);
    return;
  }
  if (status != EndpointStatus::kCreating && status != EndpointStatus::kUpdating) return;

  json snapshot = Parse(rec->pending_doc);
  Result<json> deployed = snapshot.is_object()
                              ? deployer_.Prepare(snapshot)
                              : Result<json>(Internal("the pending deployment is unreadable"));
  if (deployed.ok()) {
    // The trial start: one worker must pass /ping before traffic switches to the new variant.
    snapshot["Deployed"] = *deployed;
    auto setup_us = serving_.Deploy(rec->name, snapshot, /*trial_start=*/true);
    if (!setup_us.ok()) {
      deployed = setup_us.status();
    } else {
      log->info("endpoint={} first worker ready: ModelSetupTime={}us", rec->name, *setup_us);
    }
  }
  if (!deployed.ok() && deployed.status().code() == Code::kUnavailable) {
    // Shutting down mid-deploy: leave the status as it is; Recover() resumes the job.
    log->info("endpoint={} deploy interrupted: {}", rec->name, deployed.status().message());
    return;
  }
  EndpointEvent event =
      deployed.ok() ? EndpointEvent::kDeploySucceeded : EndpointEvent::kDeployFailed;
  auto to = Transition(status, event, arn);
  if (!to.ok()) {
    log->error("endpoint={} {}", endpoint, to.status().ToString());
    return;
  }
  store::EndpointRecord next = *rec;
  next.status = std::string(StatusName(*to));
  next.last_modified_time = clock_.Now();
  next.pending_doc.clear();
  next.generation = generation + 1;
  if (deployed.ok()) {
    next.current_doc = snapshot.dump();
    next.config_name = snapshot["EndpointConfigName"];
    next.failure_reason.clear();
    log->info("endpoint={} {} → {}", rec->name, rec->status, next.status);
  } else {
    next.failure_reason = deployed.status().message().substr(0, 1024);
    log->warn("endpoint={} deploy failed: {}", rec->name, next.failure_reason);
  }
  std::lock_guard lock(mu_);
  Status st = store_.UpdateEndpoint(next, generation);
  if (!st.ok()) log->warn("endpoint={} job result dropped: {}", endpoint, st.ToString());
}

Status ControlPlane::Recover() {
  std::lock_guard lock(mu_);
  THAW_ASSIGN_OR_RETURN(auto endpoints, store_.ListEndpoints());
  for (const auto& e : endpoints) {
    auto s = ParseStatus(e.status);
    json current = Parse(e.current_doc);
    if (current.is_object() &&
        (s == EndpointStatus::kInService || s == EndpointStatus::kUpdating)) {
      // Back at zero workers: the first request cold-starts.
      auto served = serving_.Deploy(e.name, current, /*trial_start=*/false);
      if (!served.ok()) {
        Logger("control")->error("endpoint={} cannot be served: {}", e.name,
                                 served.status().ToString());
      }
    }
    if (s == EndpointStatus::kCreating || s == EndpointStatus::kUpdating ||
        s == EndpointStatus::kDeleting) {
      Logger("control")->info("resuming {} job for endpoint={}", e.status, e.name);
      Schedule(e.name, e.generation);
    }
  }
  return Status::Ok();
}

}  // namespace thaw::control
