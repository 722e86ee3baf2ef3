#pragma once
// A model directory with the scikit-learn runtime's code beside it. SAGEMAKER_SUBMIT_DIRECTORY
// often names code outside the model archive: an s3://…/sourcedir.tar.gz (what the SageMaker
// SDK uploads), another tarball, or a directory on this host. The worker sees nothing of the
// host but its model, so the deploy job copies the code in: the result is a directory of the
// cache holding the model's files and the code under code/ — the layout the SDK's repack path
// produces (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code). A code/ directory the archive had
// is replaced. The copy is taken at deploy time, so the endpoint serves the code it was
// deployed with, as it serves the model it was deployed with.

#include <filesystem>
#include <string>
#include <string_view>

#include "artifacts/model_cache.h"
#include "common/status.h"

namespace thaw::artifacts {

// Where a SAGEMAKER_SUBMIT_DIRECTORY value says the code is.
enum class CodeLocation {
  kInModel,    // empty, or under /opt/ml/model: the worker finds it in its model directory
  kArchive,    // s3://…, file://… or an absolute path to a file: a gzip-compressed tar
  kDirectory,  // an absolute path to a directory on this host
  kInvalid,    // anything else (relative paths, https://)
};

// Pure: classifies by the text alone; `is_directory` tells whether an absolute path names a
// directory on this host.
CodeLocation ClassifySubmitDirectory(std::string_view value, bool is_directory);

// Digest of a directory tree's names, types, link targets and file contents (links are not
// followed). Fails on unreadable entries and on anything but files, directories and symlinks.
Result<std::string> TreeDigest(const std::filesystem::path& dir);

// The cache directory for `model` plus `code_dir` as code/ (created once per pair of digests,
// atomically like ModelCache::Materialize). Files of `model` are hard links; files of
// `code_dir` are hard links when `code_is_cached` (another cache directory), else copies.
Result<CachedModel> AddCode(const ModelCache& cache, const CachedModel& model,
                            const std::filesystem::path& code_dir, const std::string& code_digest,
                            bool code_is_cached);

}  // namespace thaw::artifacts
