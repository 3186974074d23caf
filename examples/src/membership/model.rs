//! What the membership app stores and answers with: tiers, users, articles, and the one access
//! rule (a tier reads its own articles and those of every tier below it).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A membership tier, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Everyone, anonymous visitors included.
    Free,
    /// Paying members.
    Basic,
    /// Members who read everything.
    Premium,
}

impl Tier {
    /// The name stored in the database and sent in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Basic => "basic",
            Tier::Premium => "premium",
        }
    }

    /// Parses a stored name; anything unknown is `free` (the least access).
    pub fn parse(s: &str) -> Tier {
        match s {
            "basic" => Tier::Basic,
            "premium" => Tier::Premium,
            _ => Tier::Free,
        }
    }

    /// The tier Clerk's `public_metadata.tier` grants: `basic` or `premium`, else `free`.
    /// (`public_metadata` is set by your backend or the Dashboard; users cannot change it.)
    pub fn from_metadata(public_metadata: &Map<String, Value>) -> Tier {
        public_metadata
            .get("tier")
            .and_then(Value::as_str)
            .map_or(Tier::Free, Tier::parse)
    }

    /// Whether a reader of this tier may read an article of `article` tier.
    pub fn can_read(self, article: Tier) -> bool {
        self >= article
    }
}

/// A user row, as `GET /users/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Clerk's user id.
    pub id: String,
    /// The primary email address; `null` until Clerk's webhook tells us.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// The membership tier.
    pub tier: Tier,
}

/// An article, as `GET /articles/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// Its id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body text.
    pub content: String,
    /// Who may read it: this tier and those above.
    pub tier: Tier,
    /// The author's user id.
    pub author: String,
}

/// An entry of `GET /articles/accessible`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleSummary {
    /// Its id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Its tier.
    pub tier: Tier,
    /// The author's user id.
    pub author: String,
}

/// The body of `POST /articles` and `PUT /articles/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ArticleInput {
    /// Title: 1 to 200 characters.
    pub title: String,
    /// Body text: at most 100,000 characters.
    pub content: String,
    /// `free`, `basic` or `premium`.
    pub tier: Tier,
}

impl ArticleInput {
    /// What is wrong with it, if anything.
    pub fn problem(&self) -> Option<&'static str> {
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            return Some("title must be 1 to 200 characters");
        }
        if self.content.chars().count() > 100_000 {
            return Some("content must be at most 100000 characters");
        }
        None
    }
}

/// The body of `PUT /users/{id}`: both names, replaced (`null` or absent clears one).
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileInput {
    /// First name, at most 100 characters.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name, at most 100 characters.
    #[serde(default)]
    pub last_name: Option<String>,
}

impl ProfileInput {
    /// What is wrong with it, if anything.
    pub fn problem(&self) -> Option<&'static str> {
        let too_long = |n: &Option<String>| n.as_ref().is_some_and(|n| n.chars().count() > 100);
        (too_long(&self.first_name) || too_long(&self.last_name))
            .then_some("names must be at most 100 characters")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert!(Tier::Premium.can_read(Tier::Basic) && Tier::Basic.can_read(Tier::Free));
        assert!(!Tier::Free.can_read(Tier::Basic) && !Tier::Basic.can_read(Tier::Premium));
        let meta = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            Tier::from_metadata(&meta(serde_json::json!({"tier": "premium"}))),
            Tier::Premium
        );
        assert_eq!(
            Tier::from_metadata(&meta(serde_json::json!({"tier": "gold"}))),
            Tier::Free
        );
        assert_eq!(
            Tier::from_metadata(&meta(serde_json::json!({"tier": 2}))),
            Tier::Free
        );
        assert_eq!(Tier::from_metadata(&Map::new()), Tier::Free);
        assert_eq!(serde_json::to_string(&Tier::Basic).unwrap(), "\"basic\"");
    }
}
