package main

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// offerPath is where an offer's buttons post (interactive message actions:
// the server adds the presser's Mattermost-User-Id and session).
const offerPath = "/api/v1/offers/{offer_id:[a-f0-9]{24}}/{answer:use|keep}"

// offerURL is the integration URL of an offer's button.
func offerURL(offerID, answer string) string {
	return "/plugins/" + pluginID + "/api/v1/offers/" + offerID + "/" + answer
}

// handleOffer answers a press of an offer's button. Interactive actions
// always answer 200: the text goes to the presser, and an answered offer's
// post loses its buttons.
func (p *Plugin) handleOffer(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	userID, offerID := userOf(r), vars["offer_id"]
	svc := p.service()
	var text string
	var answered *account.Offer
	if vars["answer"] == "use" {
		res, f := svc.AcceptOffer(context.WithoutCancel(r.Context()), userID, sessionOf(r), offerID)
		if f != nil {
			text = reply.Failure(f)
		} else {
			text = reply.Email(res)
			if res.Change.State != account.StateRefused {
				o := account.Offer{ID: offerID, Email: res.Change.NewEmail, Agreed: res.Change.OldEmail}
				answered = &o
			}
		}
	} else {
		o, f := svc.KeepOffer(userID, sessionOf(r), offerID)
		if f != nil {
			text = reply.Failure(f)
		} else {
			text = reply.OfferKept(o)
			answered = &o
		}
	}
	resp := model.PostActionIntegrationResponse{EphemeralText: text}
	if answered != nil {
		resp.Update = &model.Post{Message: reply.OfferAnswered(*answered, text)}
		resp.Update.AddProp("attachments", []any{}) // the buttons go
	}
	writeJSON(w, http.StatusOK, resp)
}

// offerPost is the bot's direct message for an offer, with its buttons.
func offerPost(o account.Offer) *model.Post {
	post := &model.Post{Message: reply.Offer(o)}
	model.ParseMessageAttachment(post, []*model.MessageAttachment{{
		Actions: []*model.PostAction{
			{Id: "use", Name: reply.OfferUse, Style: "primary", Integration: &model.PostActionIntegration{URL: offerURL(o.ID, "use")}},
			{Id: "keep", Name: reply.OfferKeep, Integration: &model.PostActionIntegration{URL: offerURL(o.ID, "keep")}},
		},
	}})
	return post
}
