// The plan and the rendezvous reports as JSON: the wire format between ranks and the output of
// `spark-slurm plan --json`. The secret only travels on the wire; printed plans carry a
// fingerprint so that ranks can be compared without showing it.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "plan/plan.hpp"

namespace spark_slurm {

nlohmann::json report_to_json(const NodeReport& report);
NodeReport report_from_json(const nlohmann::json& json);

enum class SecretHandling { Include, Fingerprint };
nlohmann::json plan_to_json(const Plan& plan, SecretHandling secret);
// Writes the same text as plan_to_json(plan, secret) plus `extra_fields`, then dump(), but one node
// at a time: a 100,000-node plan never exists as one JSON document (that took 816 MiB and 7 s).
void write_plan_json(std::ostream& out, const Plan& plan, SecretHandling secret,
                     const nlohmann::json& extra_fields = nlohmann::json::object());
Plan plan_from_json(const nlohmann::json& json);

// A short, non-reversible tag of the secret (FNV-1a, 64 bits, hex).
std::string secret_fingerprint(const std::string& secret);

}  // namespace spark_slurm
