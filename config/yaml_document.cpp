// Single-document loading that cannot hang on yaml-cpp 0.7's LoadAll bug.
#include "config/yaml_document.hpp"

#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>

#include "config/config_error.hpp"

namespace mpiod {

namespace {

/// Records where each document starts and ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;

    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

int line_of(const YAML::Mark& mark) {
    return mark.is_null() ? 0 : mark.line + 1;
}

ConfigError syntax_error(const std::string& source, const YAML::Mark& mark,
                         const std::string& what) {
    return ConfigError(source, line_of(mark), "", "YAML syntax error: " + what);
}

/// Where the first documents of the text start, at most two: that is all the caller needs,
/// and the bound ends the work when the parser stops making progress.
std::vector<YAML::Mark> document_starts(const std::string& text, const std::string& source) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts documents;
    while (documents.starts.size() < 2 && parser.HandleNextDocument(documents)) {
        const auto n = documents.starts.size();
        // A document starting where the previous one did means the parser is stuck on a
        // token it cannot consume (yaml-cpp #1040).
        if (n == 2 && documents.starts[1].pos == documents.starts[0].pos) {
            const auto pos = static_cast<std::size_t>(documents.starts[1].pos);
            const std::string near =
                pos < text.size() ? " '" + std::string(1, text[pos]) + "'" : std::string();
            throw syntax_error(source, documents.starts[1], "unexpected character" + near);
        }
    }
    return documents.starts;
}

} // namespace

YAML::Node load_single_document(const std::string& text, const std::string& source) {
    try {
        const std::vector<YAML::Mark> starts = document_starts(text, source);
        if (starts.size() > 1) {
            throw ConfigError(source, line_of(starts[1]), "",
                              "only one YAML document is allowed (remove the second '---')");
        }
        YAML::Node root = starts.empty() ? YAML::Node() : YAML::Load(text);
        if (starts.empty() || root.IsNull()) {
            throw ConfigError(source, 1, "",
                              "the configuration is empty (it needs at least a paths: list)");
        }
        return root;
    } catch (const YAML::ParserException& e) {
        throw syntax_error(source, e.mark, e.msg);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source, line_of(e.mark), "", std::string("YAML error: ") + e.msg);
    }
}

} // namespace mpiod
